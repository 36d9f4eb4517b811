# ruff: noqa: E501  (wording data: a step or a tip stays on one line to read and translate)
"""The starter library: activities written for pedsdesk, in plain English and Spanish.

Original wording by the project (no commercial or share-alike text). Each entry:
key, discipline, skill tags, default dose (repetitions, sets, minutes, days a week),
title, steps and what to watch for, each as (English, Spanish). Steps are one a line.
Pure data; ``load_starter_library`` in actions.py writes it to the database.
"""

from typing import NamedTuple


class StarterActivity(NamedTuple):
    key: str
    discipline: str
    skills: tuple[str, ...]
    dose: tuple[int | None, int | None, int | None, int]  # repetitions, sets, minutes, days a week
    title: tuple[str, str]
    steps: tuple[str, str]
    watch: tuple[str, str]


def _a(key, discipline, skills, dose, title, steps, watch) -> StarterActivity:
    return StarterActivity(key, discipline, tuple(skills.split()), dose, title, steps, watch)


STARTER: list[StarterActivity] = [
    # Occupational therapy
    _a("ot-playdough-pinch", "OT", "fine_motor strength", (10, 2, None, 5),
       ("Play dough pinch and roll", "Pellizcar y rodar plastilina"),
       ("Roll a ball of play dough as big as a grape.\nPinch it flat with thumb and first finger.\n"
        "Roll it back into a ball and pinch again.",
        "Haga una bolita de plastilina del tamaño de una uva.\nAplánela con el pulgar y el índice.\n"
        "Vuelva a hacer la bolita y aplaste otra vez."),
       ("Fingertips do the work, not the whole hand.", "Que trabajen las yemas de los dedos, no toda la mano.")),
    _a("ot-clothespin-pick", "OT", "fine_motor strength", (15, 2, None, 5),
       ("Clothespin pick-up", "Recoger con pinzas de ropa"),
       ("Put ten cotton balls on the table.\nSqueeze a clothespin to pick up one ball at a time.\n"
        "Drop each ball into a cup.",
        "Ponga diez bolitas de algodón en la mesa.\nApriete una pinza de ropa para tomar una bolita a la vez.\n"
        "Deje caer cada bolita en un vaso."),
       ("Thumb on one side of the pin, fingers on the other.", "El pulgar de un lado de la pinza y los dedos del otro.")),
    _a("ot-bead-string", "OT", "fine_motor coordination", (None, None, 5, 4),
       ("String beads", "Ensartar cuentas"),
       ("Tie a big knot at one end of a shoelace.\nThread large beads one by one.\nCount the beads together at the end.",
        "Haga un nudo grande en un extremo de una agujeta.\nEnsarte cuentas grandes una por una.\n"
        "Cuenten juntos las cuentas al final."),
       ("One hand holds the lace, the other pushes the bead.", "Una mano sostiene la agujeta y la otra empuja la cuenta.")),
    _a("ot-scissor-lines", "OT", "fine_motor visual_motor", (5, 1, None, 3),
       ("Cut along thick lines", "Cortar sobre líneas gruesas"),
       ("Draw thick straight lines on paper.\nThumb up in the scissor handle.\nCut along each line while the other hand "
        "turns the paper.",
        "Dibuje líneas rectas y gruesas en un papel.\nEl pulgar arriba en el mango de las tijeras.\n"
        "Corte sobre cada línea mientras la otra mano gira el papel."),
       ("Use child-safe scissors and stay close.", "Use tijeras para niños y quédese cerca.")),
    _a("ot-tripod-crayon", "OT", "handwriting fine_motor", (None, None, 5, 5),
       ("Small crayon grip", "Agarre con crayón pequeño"),
       ("Break a crayon into a short piece.\nHold it with thumb, first and middle finger.\nColor inside a big shape.",
        "Parta un crayón en un pedazo corto.\nTómelo con el pulgar, el índice y el dedo medio.\n"
        "Coloree dentro de una figura grande."),
       ("A short crayon invites the small-finger grip.", "Un crayón corto ayuda a tomarlo con la punta de los dedos.")),
    _a("ot-name-tracing", "OT", "handwriting visual_motor", (3, 1, None, 5),
       ("Trace and write the first name", "Trazar y escribir el nombre"),
       ("Write your child's first name in large dotted letters.\nYour child traces it three times.\n"
        "Then writes it once alone.",
        "Escriba el nombre de su hijo con letras grandes punteadas.\nSu hijo lo traza tres veces.\n"
        "Luego lo escribe una vez sin ayuda."),
       ("Letters start at the top.", "Las letras empiezan desde arriba.")),
    _a("ot-coin-slot", "OT", "fine_motor visual_motor", (20, 1, None, 5),
       ("Coins in a slot", "Monedas por la ranura"),
       ("Cut a slot in the lid of a plastic tub.\nHold several coins in the palm.\nMove one coin at a time to the "
        "fingertips and push it in.",
        "Haga una ranura en la tapa de un recipiente de plástico.\nSostenga varias monedas en la palma.\n"
        "Pase una moneda a la vez a la punta de los dedos y métala."),
       ("Coins are small: stay close with younger children.", "Las monedas son pequeñas: quédese cerca de los niños pequeños.")),
    _a("ot-button-practice", "OT", "self_care fine_motor", (5, 1, None, 5),
       ("Button practice", "Practicar botones"),
       ("Start with a shirt lying on the table with big buttons.\nPush each button through with one hand and pull "
        "with the other.\nThen try the shirt while wearing it.",
        "Empiece con una camisa de botones grandes sobre la mesa.\nPase cada botón con una mano y jale con la otra.\n"
        "Luego inténtelo con la camisa puesta."),
       ("Bottom button first, so the rest line up.", "Primero el botón de abajo, así los demás quedan parejos.")),
    _a("ot-zipper-coat", "OT", "self_care", (3, 1, None, 5),
       ("Zip the coat", "Subir el cierre del abrigo"),
       ("Help hook the zipper at the bottom.\nYour child holds the bottom with one hand.\nYour child pulls the zipper "
        "up with the other.",
        "Ayude a enganchar el cierre abajo.\nSu hijo sostiene la parte de abajo con una mano.\n"
        "Su hijo sube el cierre con la otra."),
       ("Give less help each week.", "Ayude un poco menos cada semana.")),
    _a("ot-sock-on", "OT", "self_care balance", (2, 1, None, 5),
       ("Put on socks", "Ponerse los calcetines"),
       ("Sit on the floor or a low step.\nOpen the sock with both thumbs.\nPull it over the toes, then the heel.",
        "Siéntese en el piso o en un escalón bajo.\nAbra el calcetín con los dos pulgares.\n"
        "Páselo por los dedos del pie y luego por el talón."),
       ("Sitting keeps it safe while balance improves.", "Sentado es más seguro mientras mejora el equilibrio.")),
    _a("ot-spoon-scoop", "OT", "feeding fine_motor", (10, 2, None, 5),
       ("Spoon scooping", "Servir con cuchara"),
       ("Fill a bowl with dry cereal.\nScoop with a spoon and move it to another bowl.\nTry not to spill.",
        "Llene un plato hondo con cereal seco.\nTome con una cuchara y páselo a otro plato.\nTrate de no tirarlo."),
       ("Elbow down, wrist turns the spoon.", "El codo abajo; la muñeca gira la cuchara.")),
    _a("ot-animal-walks", "OT", "gross_motor sensory strength", (None, None, 5, 5),
       ("Animal walks", "Caminar como animales"),
       ("Bear walk: hands and feet on the floor, hips up.\nCrab walk: belly up, walk on hands and feet.\n"
        "Do each across the room and back.",
        "Oso: manos y pies en el piso, cadera arriba.\nCangrejo: panza arriba, camine con manos y pies.\n"
        "Haga cada uno de ida y vuelta por el cuarto."),
       ("Stop if your child's arms shake a lot.", "Pare si los brazos de su hijo tiemblan mucho.")),
    _a("ot-wall-pushups", "OT", "strength sensory", (10, 2, None, 5),
       ("Wall push-ups", "Lagartijas en la pared"),
       ("Stand one step away from a wall.\nHands flat on the wall at shoulder height.\nBend the elbows, then push "
        "back.",
        "Párese a un paso de la pared.\nManos planas en la pared a la altura de los hombros.\n"
        "Doble los codos y luego empuje."),
       ("Good before homework: it helps some children settle.", "Bueno antes de la tarea: a algunos niños les ayuda a calmarse.")),
    _a("ot-heavy-basket", "OT", "sensory strength", (5, 1, None, 5),
       ("Carry the laundry basket", "Cargar la canasta de ropa"),
       ("Put a few books or towels in a basket.\nYour child carries it from one room to another.\nEmpty it and "
        "carry it back.",
        "Ponga unos libros o toallas en una canasta.\nSu hijo la lleva de un cuarto a otro.\nLa vacía y la regresa."),
       ("Heavy enough to feel, light enough to carry with a straight back.",
        "Que pese un poco, pero que pueda cargarla con la espalda recta.")),
    _a("ot-texture-bin", "OT", "sensory fine_motor", (None, None, 5, 4),
       ("Treasure hunt in rice", "Buscar tesoros en arroz"),
       ("Hide small toys in a tub of dry rice or beans.\nYour child finds them with the hands.\nName each toy as "
        "it comes out.",
        "Esconda juguetes pequeños en un recipiente con arroz o frijoles secos.\nSu hijo los busca con las manos.\n"
        "Digan el nombre de cada juguete al sacarlo."),
       ("Let your child start with a finger if touch is hard.", "Si tocar le cuesta, que empiece con un dedo.")),
    _a("ot-calm-breathing", "OT", "sensory attention", (5, 1, None, 7),
       ("Smell the flower, blow the candle", "Oler la flor, soplar la vela"),
       ("Breathe in slowly through the nose, as if smelling a flower.\nBreathe out slowly through the mouth, as if "
        "blowing out a candle.\nDo it five times together.",
        "Respire despacio por la nariz, como si oliera una flor.\nSaque el aire despacio por la boca, como si "
        "soplara una vela.\nHáganlo juntos cinco veces."),
       ("Practice when calm, so it works when upset.", "Practíquelo en calma para que funcione en momentos difíciles.")),
    _a("ot-maze-pencil", "OT", "visual_motor handwriting", (2, 1, None, 4),
       ("Pencil mazes", "Laberintos con lápiz"),
       ("Draw a simple maze with wide paths.\nYour child draws a line from start to finish.\nTry not to touch the "
        "walls.",
        "Dibuje un laberinto sencillo con caminos anchos.\nSu hijo traza una línea de la entrada a la salida.\n"
        "Trate de no tocar las paredes."),
       ("Go slowly; neat beats fast.", "Despacio; mejor limpio que rápido.")),
    _a("ot-sticker-line", "OT", "fine_motor visual_motor", (10, 1, None, 5),
       ("Stickers on a line", "Calcomanías sobre una línea"),
       ("Draw a line on paper.\nYour child peels a sticker with the fingertips.\nPlace each sticker right on the "
        "line.",
        "Dibuje una línea en un papel.\nSu hijo despega una calcomanía con la punta de los dedos.\n"
        "Pone cada calcomanía justo sobre la línea."),
       ("Bend the sticker sheet a little to help start the peel.", "Doble un poco la hoja para que sea más fácil despegar.")),
    _a("ot-tongs-sort", "OT", "fine_motor attention", (12, 1, None, 4),
       ("Sort with tongs", "Clasificar con pinzas de cocina"),
       ("Mix pom-poms or blocks of two colors.\nPick up each one with kitchen tongs.\nSort them into two cups by "
        "color.",
        "Mezcle pompones o bloques de dos colores.\nTome cada uno con pinzas de cocina.\n"
        "Sepárelos por color en dos vasos."),
       ("Hold the tongs like scissors, thumb on top.", "Tome las pinzas como tijeras, con el pulgar arriba.")),
    _a("ot-brush-teeth", "OT", "self_care sensory", (None, None, 2, 7),
       ("Brush teeth with a song", "Cepillarse con una canción"),
       ("Put a pea-sized bit of toothpaste on the brush.\nBrush top teeth, then bottom teeth.\nSing a short song "
        "so it lasts two minutes.",
        "Ponga pasta del tamaño de un chícharo en el cepillo.\nCepille los dientes de arriba y luego los de abajo.\n"
        "Canten una canción corta para que dure dos minutos."),
       ("You finish the brushing after your child's turn.", "Usted termina de cepillar después del turno de su hijo.")),
    # Physical therapy
    _a("pt-single-leg-stand", "PT", "balance strength", (5, 2, None, 5),
       ("Stand on one foot", "Pararse en un pie"),
       ("Stand next to a counter.\nLift one foot and count to ten.\nSwitch feet.",
        "Párese junto a una mesa de cocina.\nLevante un pie y cuente hasta diez.\nCambie de pie."),
       ("A hand near the counter is fine at first.", "Al principio puede tener una mano cerca de la mesa.")),
    _a("pt-heel-walk", "PT", "balance strength", (4, 1, None, 5),
       ("Walk on heels", "Caminar sobre los talones"),
       ("Lift the toes off the floor.\nWalk on the heels across the room.\nWalk back on tiptoes.",
        "Levante las puntas de los pies.\nCamine sobre los talones por el cuarto.\nRegrese caminando de puntitas."),
       ("Clear the floor of toys first.", "Primero quite los juguetes del piso.")),
    _a("pt-tandem-line", "PT", "balance coordination", (4, 1, None, 5),
       ("Walk the tape line", "Caminar sobre la línea de cinta"),
       ("Put a strip of tape on the floor.\nWalk on it with one foot right in front of the other.\nArms out like an "
        "airplane.",
        "Pegue una tira de cinta en el piso.\nCamine sobre ella con un pie justo delante del otro.\n"
        "Brazos abiertos como avión."),
       ("Heel touches toe on each step.", "El talón toca la punta del otro pie en cada paso.")),
    _a("pt-squat-to-stand", "PT", "strength gross_motor", (10, 2, None, 5),
       ("Squat and pick up a toy", "Agacharse y levantar un juguete"),
       ("Put toys on the floor.\nSquat down with feet flat to pick one up.\nStand all the way up and put it in a "
        "basket on a chair.",
        "Ponga juguetes en el piso.\nAgáchese con los pies planos para tomar uno.\n"
        "Levántese completamente y póngalo en una canasta sobre una silla."),
       ("Knees point the same way as the toes.", "Las rodillas apuntan hacia donde apuntan los pies.")),
    _a("pt-sit-to-stand", "PT", "strength", (10, 2, None, 5),
       ("Sit to stand", "Sentarse y pararse"),
       ("Sit on a chair with feet flat.\nStand up without using the hands.\nSit back down slowly.",
        "Siéntese en una silla con los pies planos.\nPárese sin usar las manos.\nSiéntese otra vez despacio."),
       ("Slow on the way down counts the most.", "Lo que más cuenta es bajar despacio.")),
    _a("pt-bridges", "PT", "strength", (10, 2, None, 5),
       ("Bridges", "Puentes"),
       ("Lie on the back with knees bent and feet flat.\nLift the hips up like a bridge.\nHold for three, then lower.",
        "Acuéstese boca arriba con las rodillas dobladas y los pies planos.\nLevante la cadera como un puente.\n"
        "Sostenga contando tres y baje."),
       ("A toy car can drive under the bridge.", "Un carrito puede pasar por debajo del puente.")),
    _a("pt-superman", "PT", "strength", (5, 2, None, 5),
       ("Superhero flying", "Volar como superhéroe"),
       ("Lie on the tummy.\nLift arms, head and legs off the floor.\nHold for five, then rest.",
        "Acuéstese boca abajo.\nLevante brazos, cabeza y piernas del piso.\nSostenga contando cinco y descanse."),
       ("Eyes look at the floor to keep the neck long.", "Los ojos miran al piso para no forzar el cuello.")),
    _a("pt-jump-two-feet", "PT", "gross_motor coordination", (10, 2, None, 5),
       ("Jump forward with two feet", "Saltar hacia adelante con los dos pies"),
       ("Put a line of tape on the floor.\nStand behind it with feet together.\nJump over it and land on both feet.",
        "Ponga una línea de cinta en el piso.\nPárese detrás con los pies juntos.\nSalte por encima y caiga con "
        "los dos pies."),
       ("Soft knees on landing.", "Rodillas suaves al caer.")),
    _a("pt-hop-one-foot", "PT", "balance gross_motor", (5, 2, None, 4),
       ("Hop on one foot", "Saltar en un pie"),
       ("Stand on one foot.\nHop in place five times.\nSwitch feet.",
        "Párese en un pie.\nSalte en el mismo lugar cinco veces.\nCambie de pie."),
       ("Near a wall or your hand for safety.", "Cerca de una pared o de su mano, por seguridad.")),
    _a("pt-ball-kick", "PT", "coordination gross_motor", (10, 1, None, 4),
       ("Kick a ball to a target", "Patear la pelota a un blanco"),
       ("Set up two shoes as a goal.\nKick a ball between them.\nTake turns with each foot.",
        "Ponga dos zapatos como portería.\nPatee la pelota entre ellos.\nTurne un pie y luego el otro."),
       ("Standing foot next to the ball.", "El pie de apoyo junto a la pelota.")),
    _a("pt-ball-catch", "PT", "coordination", (10, 2, None, 5),
       ("Catch a big ball", "Atrapar una pelota grande"),
       ("Stand two big steps apart.\nToss a large soft ball underhand.\nYour child catches it with both hands and "
        "throws it back.",
        "Párense a dos pasos grandes de distancia.\nLance una pelota grande y suave por abajo.\n"
        "Su hijo la atrapa con las dos manos y la regresa."),
       ("Step back once ten catches in a row are easy.", "Alejen un paso cuando diez atrapadas seguidas sean fáciles.")),
    _a("pt-stairs-alternate", "PT", "gross_motor balance", (3, 1, None, 5),
       ("Stairs, one foot per step", "Escaleras, un pie por escalón"),
       ("Hold the rail.\nGo up placing one foot on each step.\nCome down the same way, slowly.",
        "Sujétese del barandal.\nSuba poniendo un pie en cada escalón.\nBaje igual, despacio."),
       ("Stay one step below your child going up.", "Al subir, quédese un escalón debajo de su hijo.")),
    _a("pt-calf-stretch", "PT", "gross_motor", (3, 1, None, 7),
       ("Calf stretch at the wall", "Estirar pantorrillas en la pared"),
       ("Hands on the wall, one foot back.\nBack heel stays on the floor.\nLean forward and hold for twenty.",
        "Manos en la pared, un pie atrás.\nEl talón de atrás se queda en el piso.\n"
        "Inclínese hacia adelante y sostenga contando veinte."),
       ("A stretch should pull, never hurt.", "Estirar debe jalar un poco, nunca doler.")),
    _a("pt-hamstring-stretch", "PT", "gross_motor", (3, 1, None, 7),
       ("Long sitting reach", "Alcanzar los pies sentado"),
       ("Sit on the floor with legs straight.\nReach toward the toes.\nHold for twenty while you count together.",
        "Siéntese en el piso con las piernas estiradas.\nEstire las manos hacia los dedos de los pies.\n"
        "Sostenga contando juntos hasta veinte."),
       ("Knees stay straight but not locked.", "Las rodillas derechas, sin forzarlas.")),
    _a("pt-tummy-time-reach", "PT", "strength gross_motor", (None, None, 5, 7),
       ("Tummy time reaching", "Boca abajo alcanzando juguetes"),
       ("Place your child on the tummy on a blanket.\nPut a toy just out of reach.\nEncourage pushing up on the "
        "arms and reaching.",
        "Ponga a su hijo boca abajo sobre una cobija.\nDeje un juguete un poco lejos.\n"
        "Anímelo a apoyarse en los brazos y alcanzarlo."),
       ("Always awake and watched.", "Siempre despierto y vigilado.")),
    _a("pt-crawl-tunnel", "PT", "gross_motor coordination", (5, 1, None, 4),
       ("Crawl through a tunnel", "Gatear por un túnel"),
       ("Make a tunnel with chairs and a blanket.\nYour child crawls through on hands and knees.\nAdd a pillow to "
        "climb over.",
        "Haga un túnel con sillas y una cobija.\nSu hijo gatea por dentro en manos y rodillas.\n"
        "Ponga una almohada para pasar por encima."),
       ("Opposite hand and knee move together.", "Se mueven juntas la mano y la rodilla contrarias.")),
    _a("pt-marching", "PT", "balance coordination", (20, 2, None, 5),
       ("March with high knees", "Marchar con rodillas altas"),
       ("Stand tall.\nLift one knee up high, then the other.\nMarch to a song.",
        "Párese derecho.\nLevante una rodilla bien alto y luego la otra.\nMarche con una canción."),
       ("Tall body, no leaning back.", "Cuerpo derecho, sin echarse hacia atrás.")),
    _a("pt-step-ups", "PT", "strength balance", (10, 2, None, 5),
       ("Step-ups", "Subir al escalón"),
       ("Use the bottom stair.\nStep up with one foot and bring the other up.\nStep down. Then lead with the other "
        "foot.",
        "Use el primer escalón.\nSuba con un pie y suba el otro.\nBaje. Luego empiece con el otro pie."),
       ("The whole foot goes on the step.", "Todo el pie va sobre el escalón.")),
    _a("pt-toe-raises", "PT", "strength balance", (10, 2, None, 5),
       ("Up on tiptoes", "Subir de puntitas"),
       ("Stand holding a counter.\nRise up on the toes.\nLower slowly.",
        "Párese sosteniéndose de una mesa.\nSuba de puntitas.\nBaje despacio."),
       ("Both heels lift evenly.", "Los dos talones suben igual.")),
    _a("pt-obstacle-course", "PT", "gross_motor coordination balance", (None, None, 10, 3),
       ("Living room obstacle course", "Carrera de obstáculos en la sala"),
       ("Set up pillows to step over, a chair to crawl under and a line to walk on.\nYour child goes through the "
        "course.\nTime it and try to beat the time.",
        "Ponga almohadas para pasar por encima, una silla para gatear por debajo y una línea para caminar.\n"
        "Su hijo hace el recorrido.\nMidan el tiempo e intenten mejorarlo."),
       ("Change one piece each day to keep it fun.", "Cambie una parte cada día para que siga siendo divertido.")),
    # Speech-language pathology
    _a("slp-s-words", "SLP", "articulation", (10, 2, None, 5),
       ("Snake sound words", "Palabras con el sonido de la serpiente"),
       ("Make a long snake sound together: ssss.\nSay ten picture words that start with s.\nPraise each clear s.",
        "Hagan juntos un sonido largo de serpiente: ssss.\nDigan diez palabras de dibujos que empiecen con s.\n"
        "Felicite cada s clara."),
       ("Tongue stays behind the teeth.", "La lengua se queda detrás de los dientes.")),
    _a("slp-r-sounds", "SLP", "articulation", (10, 2, None, 5),
       ("Growling r", "La r del tigre"),
       ("Growl like a tiger: grrr.\nSay words that end in r, such as car and door.\nSay each word twice.",
        "Gruña como tigre: grrr.\nDigan palabras con r, como perro y carro.\nDigan cada palabra dos veces."),
       ("Short and frequent beats long and tiring.", "Mejor corto y seguido que largo y cansado.")),
    _a("slp-k-g-game", "SLP", "articulation", (10, 2, None, 5),
       ("Back sounds: k and g", "Sonidos de atrás: k y g"),
       ("Pretend to cough softly to feel the back of the tongue.\nSay k words: cup, cake, key.\nSay g words: go, "
        "game, goat.",
        "Tosan suavecito para sentir la parte de atrás de la lengua.\nDigan palabras con k: casa, queso, cama.\n"
        "Digan palabras con g: gato, gota, goma."),
       ("The tip of the tongue rests down low.", "La punta de la lengua descansa abajo.")),
    _a("slp-l-tongue-tip", "SLP", "articulation oral_motor", (10, 2, None, 5),
       ("Tongue tip l", "La l con la punta de la lengua"),
       ("Touch the tongue tip to the bump behind the top teeth.\nSing la la la.\nSay words: lamp, leaf, lion.",
        "Toque con la punta de la lengua el borde detrás de los dientes de arriba.\nCanten la la la.\n"
        "Digan palabras: luna, lápiz, león."),
       ("A mirror helps your child see the tongue.", "Un espejo ayuda a que vea su lengua.")),
    _a("slp-mirror-faces", "SLP", "oral_motor", (5, 1, None, 5),
       ("Mirror faces", "Caras en el espejo"),
       ("Sit in front of a mirror together.\nCopy faces: big smile, kiss lips, puffed cheeks, tongue up.\nHold "
        "each face for three.",
        "Siéntense juntos frente a un espejo.\nCopien caras: sonrisa grande, boca de beso, cachetes inflados, "
        "lengua arriba.\nSostengan cada cara contando tres."),
       ("Make it a game of copying each other.", "Háganlo un juego de copiarse.")),
    _a("slp-bubble-blow", "SLP", "oral_motor", (10, 1, None, 5),
       ("Blow bubbles", "Soplar burbujas"),
       ("Round the lips.\nBlow slowly to make one big bubble.\nThen blow fast for many small ones.",
        "Redondee los labios.\nSople despacio para hacer una burbuja grande.\nLuego sople rápido para hacer muchas "
        "pequeñas."),
       ("Slow, steady air is the goal.", "La meta es un aire lento y parejo.")),
    _a("slp-naming-pictures", "SLP", "language", (None, None, 10, 5),
       ("Name the pictures", "Nombrar los dibujos"),
       ("Look at a picture book together.\nPoint to a picture and wait for your child to name it.\nAdd one word: "
        "dog, big dog.",
        "Vean juntos un libro con dibujos.\nSeñale un dibujo y espere a que su hijo lo nombre.\n"
        "Agregue una palabra: perro, perro grande."),
       ("Wait a few seconds before helping.", "Espere unos segundos antes de ayudar.")),
    _a("slp-two-step-directions", "SLP", "language attention", (5, 1, None, 5),
       ("Two-step directions", "Instrucciones de dos pasos"),
       ("Give a two-part direction: touch your nose, then clap.\nYour child does both in order.\nTake turns giving "
        "directions.",
        "Dé una instrucción de dos partes: tócate la nariz y luego aplaude.\nSu hijo hace las dos en orden.\n"
        "Túrnense para dar instrucciones."),
       ("Say it once, then wait.", "Dígalo una vez y espere.")),
    _a("slp-describe-object", "SLP", "language", (5, 1, None, 4),
       ("Mystery bag", "La bolsa misteriosa"),
       ("Put a household object in a bag.\nYour child feels it and describes it: size, shape, what it is for.\n"
        "Guess it, then swap roles.",
        "Ponga un objeto de la casa en una bolsa.\nSu hijo lo toca y lo describe: tamaño, forma, para qué sirve.\n"
        "Adivine usted y luego cambien de papel."),
       ("Accept any true describing word.", "Acepte cualquier palabra que lo describa bien.")),
    _a("slp-story-retell", "SLP", "language", (1, 1, None, 4),
       ("Retell the story", "Volver a contar el cuento"),
       ("Read a short story.\nAsk: who was in it, where were they, what happened.\nYour child tells it back with "
        "first, then, last.",
        "Lean un cuento corto.\nPregunte: quién estaba, dónde estaban, qué pasó.\n"
        "Su hijo lo cuenta con primero, luego, al final."),
       ("Help with the first word only.", "Ayude solo con la primera palabra.")),
    _a("slp-category-game", "SLP", "language", (3, 1, None, 4),
       ("Name three things", "Nombra tres cosas"),
       ("Pick a group: animals, foods, clothes.\nTake turns naming one thing in the group.\nStop when someone gets "
        "stuck.",
        "Escojan un grupo: animales, comidas, ropa.\nTúrnense para nombrar una cosa del grupo.\n"
        "Paren cuando alguien ya no sepa."),
       ("Good for car rides.", "Bueno para los viajes en carro.")),
    _a("slp-choice-offer", "SLP", "language social", (None, None, 5, 7),
       ("Offer a choice", "Ofrecer opciones"),
       ("Hold up two things at snack time.\nAsk: apple or crackers?\nWait for a word, sign or point before giving "
        "it.",
        "Muestre dos cosas a la hora de la merienda.\nPregunte: ¿manzana o galletas?\n"
        "Espere una palabra, seña o que señale antes de darla."),
       ("Name the choice back: apple, here is your apple.", "Repita lo que escogió: manzana, aquí está tu manzana.")),
    _a("slp-turn-taking", "SLP", "social attention", (None, None, 10, 4),
       ("Take turns in a game", "Tomar turnos en un juego"),
       ("Play a simple board game or roll a ball.\nSay my turn, your turn each time.\nWait for your child's turn "
        "words.",
        "Jueguen un juego de mesa sencillo o rueden una pelota.\nDigan mi turno, tu turno cada vez.\n"
        "Espere a que su hijo diga su parte."),
       ("Keep it short and end while it is still fun.", "Que sea corto y termine cuando todavía sea divertido.")),
    _a("slp-feelings-faces", "SLP", "social language", (5, 1, None, 4),
       ("Feelings faces", "Caras de sentimientos"),
       ("Make a happy, sad, angry or surprised face.\nYour child names the feeling.\nTalk about a time you felt "
        "that way.",
        "Haga una cara feliz, triste, enojada o sorprendida.\nSu hijo dice el sentimiento.\n"
        "Platiquen de una vez que se sintieron así."),
       ("Any close word counts.", "Cualquier palabra parecida cuenta.")),
    _a("slp-slow-speech", "SLP", "fluency", (None, None, 5, 5),
       ("Turtle talk", "Hablar como tortuga"),
       ("Talk slowly together like turtles during play.\nPause between phrases.\nPraise the smooth turtle talk.",
        "Hablen despacio como tortugas mientras juegan.\nHagan pausas entre frases.\nFelicite el hablar suave de "
        "tortuga."),
       ("You model the slow pace; no correcting.", "Usted muestra el ritmo lento; no corrija.")),
    _a("slp-easy-onset", "SLP", "fluency", (10, 1, None, 5),
       ("Easy start words", "Empezar suave"),
       ("Take a gentle breath.\nStart the word softly, like a whisper getting louder.\nTry with words that start "
        "with a vowel: apple, egg.",
        "Respire suavemente.\nEmpiece la palabra bajito, como un susurro que sube.\n"
        "Pruebe con palabras que empiezan con vocal: oso, agua."),
       ("Relaxed shoulders.", "Hombros relajados.")),
    _a("slp-straw-drink", "SLP", "feeding oral_motor", (5, 1, None, 7),
       ("Drink with a straw", "Tomar con popote"),
       ("Use a short straw in a cup.\nLips close around the straw, not the teeth.\nTake five sips.",
        "Use un popote corto en un vaso.\nLos labios cierran alrededor del popote, no los dientes.\nTome cinco sorbos."),
       ("Thicker drinks like a smoothie take more work.", "Las bebidas espesas, como un licuado, cuestan más trabajo.")),
    _a("slp-chewy-snack", "SLP", "feeding oral_motor", (None, None, 5, 5),
       ("Chew on the side", "Masticar de lado"),
       ("Give a small piece of a soft chewy food.\nPlace it on the back teeth on one side.\nChew, then switch "
        "sides.",
        "Dé un pedacito de comida suave para masticar.\nPóngalo en las muelas de un lado.\nMastique y luego cambie "
        "de lado."),
       ("Sitting upright at the table, always watched.", "Sentado derecho a la mesa, siempre vigilado.")),
    _a("slp-new-food-touch", "SLP", "feeding sensory", (1, 1, None, 5),
       ("New food steps", "Pasos con una comida nueva"),
       ("Put one new food on a separate plate.\nYour child looks at it, touches it, smells it.\nA kiss or a lick "
        "counts as a big step.",
        "Ponga una comida nueva en un plato aparte.\nSu hijo la mira, la toca, la huele.\n"
        "Un beso o una probadita cuenta como un gran paso."),
       ("No pressure to eat it.", "Sin presión para que se la coma.")),
    _a("slp-sound-syllables", "SLP", "articulation language", (5, 1, None, 5),
       ("Clap the syllables", "Aplaudir las sílabas"),
       ("Say a word and clap for each part: ba-na-na.\nYour child claps with you.\nTry family names next.",
        "Diga una palabra y aplauda cada parte: plá-ta-no.\nSu hijo aplaude con usted.\n"
        "Luego prueben con nombres de la familia."),
       ("Longer words are harder: start with two parts.", "Las palabras largas son más difíciles: empiece con dos partes.")),
    _a("slp-rhyme-time", "SLP", "language", (5, 1, None, 4),
       ("Rhyme time", "Hora de rimas"),
       ("Say two words: cat, hat.\nAsk if they sound the same at the end.\nTake turns finding a rhyming word.",
        "Diga dos palabras: gato, pato.\nPregunte si terminan igual.\nTúrnense para encontrar una palabra que rime."),
       ("Silly made-up words are fine.", "Las palabras inventadas y chistosas también valen.")),
    _a("slp-wh-questions", "SLP", "language", (5, 1, None, 5),
       ("Who, what, where", "Quién, qué, dónde"),
       ("Look at a busy picture.\nAsk one who, one what and one where question.\nGive a choice of two answers if "
        "needed.",
        "Vean un dibujo con muchas cosas.\nHaga una pregunta de quién, una de qué y una de dónde.\n"
        "Si hace falta, dé dos respuestas para escoger."),
       ("Wait before giving the choices.", "Espere antes de dar las opciones.")),
    _a("slp-greetings", "SLP", "social", (3, 1, None, 7),
       ("Hello and goodbye", "Hola y adiós"),
       ("Practice saying hello with eye contact or a wave.\nUse it with family members each day.\nSay goodbye the "
        "same way at bedtime.",
        "Practiquen decir hola mirando a la persona o saludando con la mano.\nÚsenlo con la familia cada día.\n"
        "Digan adiós igual a la hora de dormir."),
       ("A wave or a look counts.", "Un saludo con la mano o una mirada también cuentan.")),
]
