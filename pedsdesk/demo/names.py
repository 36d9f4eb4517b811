"""Name and text pools for the demo practice. People are invented by combining
common first and last names at random; none is meant to be a real person."""

GIRL_NAMES = [
    "Ava", "Emma", "Olivia", "Mia", "Harper", "Amelia", "Evelyn", "Abigail", "Ella", "Scarlett", "Grace",
    "Chloe", "Nora", "Lily", "Zoey", "Hazel", "Aurora", "Stella", "Violet", "Ellie", "Paisley", "Addison",
    "Natalie", "Leah", "Hannah", "Ruby", "Quinn", "Piper", "Willow", "Ivy", "Madeline", "Clara", "Eliza",
    "June", "Naomi", "Adeline", "Margot", "Juniper", "Sadie", "Tessa", "Maeve", "Georgia", "Wren", "Cora",
]
BOY_NAMES = [
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry", "Theodore", "Jack",
    "Levi", "Alexander", "Jackson", "Owen", "Samuel", "Wyatt", "Caleb", "Nathan", "Isaac", "Hudson", "Miles",
    "Ezra", "Asher", "Carter", "Grayson", "Lincoln", "Jaxon", "Leo", "Hunter", "Eli", "Dylan", "Brooks",
    "Rowan", "Silas", "Beckett", "Emmett", "Tucker", "Declan", "Jonah", "Reid", "Cooper", "Finn", "Bennett",
]
HISPANIC_GIRL_NAMES = [
    "Sofía", "Valentina", "Camila", "Isabella", "Lucía", "Ximena", "Mariana", "Valeria", "Renata", "Daniela",
    "Gabriela", "Natalia", "Jimena", "Regina", "Fernanda", "Paula", "Elena", "Catalina", "Abril", "Luciana",
    "Victoria", "Andrea", "Adriana", "Paloma", "Alondra", "Itzel", "Maite", "Guadalupe",
]
HISPANIC_BOY_NAMES = [
    "Mateo", "Santiago", "Sebastián", "Diego", "Emiliano", "Leonardo", "Matías", "Gael", "Nicolás", "Daniel",
    "Alejandro", "Joaquín", "Tomás", "Iker", "Julián", "Rafael", "Andrés", "Adrián", "Ángel", "Carlos",
    "Miguel", "Gabriel", "Eduardo", "Bruno", "Damián", "Rodrigo", "Emilio", "Esteban",
]
NICKNAMES = {
    "Alexander": "Alex", "Benjamin": "Ben", "Theodore": "Teddy", "William": "Will", "Samuel": "Sam",
    "Nathan": "Nate", "Madeline": "Maddie", "Elizabeth": "Libby", "Abigail": "Abby", "Natalie": "Nat",
    "Eliza": "Lizzie", "Alejandro": "Alex", "Guadalupe": "Lupita", "Sebastián": "Sebas", "Santiago": "Santi",
    "Valentina": "Vale", "Gabriela": "Gaby", "Francisco": "Paco", "Nicolás": "Nico",
}
WOMAN_NAMES = [
    "Jennifer", "Jessica", "Ashley", "Sarah", "Amanda", "Brittany", "Megan", "Lauren", "Rachel", "Kayla",
    "Stephanie", "Heather", "Nicole", "Elizabeth", "Katherine", "Allison", "Erin", "Kristen", "Lindsey",
    "Morgan", "Caitlin", "Danielle", "Tiffany", "Whitney", "Courtney", "Shannon", "Holly", "Monica", "Dana",
    "Tara", "Kelsey", "Jenna", "Leslie", "Robin", "Janelle", "Aisha", "Priya", "Mei", "Hana", "Keisha",
]
MAN_NAMES = [
    "Michael", "Christopher", "Matthew", "Joshua", "Andrew", "Justin", "Ryan", "Brandon", "Tyler", "Kevin",
    "Jason", "Brian", "Eric", "Travis", "Derek", "Kyle", "Adam", "Jeremy", "Scott", "Aaron", "Patrick",
    "Gregory", "Sean", "Dustin", "Marcus", "Trevor", "Garrett", "Cody", "Darnell", "Rahul", "Wei", "Kenji",
]
HISPANIC_WOMAN_NAMES = [
    "María", "Ana", "Rosa", "Carmen", "Lucía", "Verónica", "Alejandra", "Claudia", "Patricia", "Yesenia",
    "Leticia", "Marisol", "Gabriela", "Elena", "Araceli", "Beatriz", "Graciela", "Lorena", "Norma", "Silvia",
    "Teresa", "Diana", "Mónica", "Adriana", "Erika", "Karina",
]
HISPANIC_MAN_NAMES = [
    "José", "Juan", "Luis", "Carlos", "Jorge", "Miguel", "Jesús", "Francisco", "Antonio", "Alejandro",
    "Ricardo", "Roberto", "Fernando", "Javier", "Eduardo", "Raúl", "Arturo", "Héctor", "Sergio", "Manuel",
    "Óscar", "Rubén", "Armando", "Ramón",
]
GRANDMOTHER_NAMES = ["Linda", "Barbara", "Susan", "Patricia", "Deborah", "Carol", "Sharon", "Brenda", "Janet"]
HISPANIC_GRANDMOTHER_NAMES = ["Guadalupe", "Dolores", "Esperanza", "Consuelo", "Josefina", "Socorro", "Amparo"]
SURNAMES = [
    "Anderson", "Baker", "Bennett", "Brooks", "Bryant", "Campbell", "Carter", "Chen", "Cole", "Collins",
    "Cooper", "Davis", "Dawson", "Ellis", "Evans", "Fischer", "Fleming", "Foster", "Gibson", "Graham",
    "Grant", "Hale", "Hamilton", "Harper", "Hayes", "Henderson", "Holland", "Howard", "Hughes", "Jenkins",
    "Johnson", "Kelly", "Kennedy", "Kim", "Lawson", "Lee", "Lewis", "Marshall", "Mason", "McCoy", "Meyer",
    "Mitchell", "Morgan", "Murphy", "Nguyen", "Nichols", "Novak", "Owens", "Palmer", "Parker", "Patel",
    "Perry", "Porter", "Price", "Reed", "Reynolds", "Richardson", "Roberts", "Russell", "Sanders", "Shaw",
    "Simmons", "Spencer", "Stewart", "Sullivan", "Thompson", "Tran", "Tucker", "Turner", "Wagner", "Walker",
    "Wallace", "Ward", "Warren", "Watson", "Webb", "Wells", "Wheeler", "Whitaker", "Williams", "Wright",
    "Young", "Okafor", "Adeyemi", "Washington", "Jefferson", "Banks", "Coleman", "Holmes", "Singh", "Shah",
]
HISPANIC_SURNAMES = [
    "García", "Martínez", "Rodríguez", "Hernández", "López", "González", "Pérez", "Sánchez", "Ramírez",
    "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Cruz", "Morales", "Reyes", "Gutiérrez", "Ortiz",
    "Ramos", "Castillo", "Vásquez", "Mendoza", "Ruiz", "Aguilar", "Delgado", "Salazar", "Guerrero",
    "Medina", "Cortez", "Vargas", "Castro", "Herrera", "Fuentes", "Navarro", "Cervantes", "Villarreal",
    "Treviño", "Garza", "Saldaña", "Zamora", "Ibarra",
]

# Goals per discipline; {name} is the child's first name, {pct} a criterion, {cue} a cue level.
GOALS = {
    "OT": [
        "{name} will fasten and unfasten 3 buttons on a shirt {cue} in 4 of 5 trials.",
        "{name} will write their first name legibly on a line with correct letter formation {cue}.",
        "{name} will use a tripod grasp on a pencil for a 5-minute writing task {cue}.",
        "{name} will cut along a curved line within 1/4 inch with {pct}% accuracy.",
        "{name} will tolerate messy play (paint, shaving cream) for 5 minutes without distress {cue}.",
        "{name} will use a calming strategy from a visual menu when upset {cue} in {pct}% of opportunities.",
        "{name} will complete a 4-step morning routine using a picture schedule {cue}.",
        "{name} will don and doff a jacket and zip it {cue} in 4 of 5 trials.",
        "{name} will copy a triangle and a diamond {cue} with {pct}% accuracy.",
        "{name} will sit at circle time for 10 minutes with one sensory support {cue}.",
        "{name} will open lunch containers and packages {cue} in 4 of 5 opportunities.",
        "{name} will catch a playground ball thrown from 6 feet in {pct}% of trials.",
        "{name} will feed self with a spoon with minimal spillage {cue} for a full meal.",
        "{name} will try one new food per session using a food-chaining approach {cue}.",
    ],
    "PT": [
        "{name} will walk up and down a flight of stairs with alternating feet and one rail {cue}.",
        "{name} will stand on one foot for 10 seconds on each side in 3 of 4 trials.",
        "{name} will jump forward 24 inches with a two-footed take-off and landing {cue}.",
        "{name} will walk 300 feet over uneven ground without a loss of balance {cue}.",
        "{name} will propel a tricycle 50 feet and steer around 3 cones {cue}.",
        "{name} will demonstrate a heel-toe gait pattern for 50 feet in {pct}% of trials.",
        "{name} will transition from floor to standing without hand support {cue}.",
        "{name} will keep up with peers on the playground for 10 minutes without resting.",
        "{name} will hop on one foot 5 times in a row on each side {cue}.",
        "{name} will increase hamstring length to a popliteal angle of 30 degrees bilaterally.",
        "{name} will wear ankle-foot orthoses for 6 hours a day without skin breakdown.",
        "{name} will kick a rolling ball toward a target 10 feet away in {pct}% of trials.",
        "{name} will ride a two-wheeled bike 100 feet {cue}.",
        "{name} will hold a plank for 30 seconds to improve core stability {cue}.",
    ],
    "SLP": [
        "{name} will produce /s/ in the initial position of words with {pct}% accuracy {cue}.",
        "{name} will produce /r/ in all positions of words in sentences with {pct}% accuracy.",
        "{name} will use 2- to 3-word phrases to request and comment {cue} in {pct}% of opportunities.",
        "{name} will follow 2-step directions with basic concepts with {pct}% accuracy.",
        "{name} will answer wh- questions about a short story with {pct}% accuracy {cue}.",
        "{name} will retell a familiar story with a beginning, middle and end {cue}.",
        "{name} will use a fluency strategy (easy onset) in structured conversation in {pct}% of turns.",
        "{name} will use an AAC device to make 10 requests per session {cue}.",
        "{name} will identify and name 20 core vocabulary pictures with {pct}% accuracy.",
        "{name} will take 4 conversational turns on a topic with a peer {cue}.",
        "{name} will use regular past tense -ed in sentences with {pct}% accuracy {cue}.",
        "{name} will delete final consonants in fewer than 20% of words in conversation.",
        "{name} will accept 3 new textures of food to the lips and tongue {cue}.",
        "{name} will ask for help or a break with words or a sign {cue} in {pct}% of opportunities.",
    ],
}
CUES = ["independently", "with minimal cues", "with minimal verbal cues", "with moderate cues",
        "with a visual model", "with one verbal prompt"]
