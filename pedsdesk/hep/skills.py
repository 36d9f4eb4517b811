"""Skill tags of library activities, with their names in English and Spanish (pure)."""

SKILLS: dict[str, tuple[str, str]] = {
    "fine_motor": ("Fine motor", "Motricidad fina"),
    "gross_motor": ("Gross motor", "Motricidad gruesa"),
    "balance": ("Balance", "Equilibrio"),
    "strength": ("Strength", "Fuerza"),
    "coordination": ("Coordination", "Coordinación"),
    "visual_motor": ("Visual motor", "Visomotor"),
    "handwriting": ("Handwriting", "Escritura"),
    "sensory": ("Sensory", "Sensorial"),
    "self_care": ("Self-care", "Cuidado personal"),
    "feeding": ("Feeding", "Alimentación"),
    "oral_motor": ("Oral motor", "Motricidad oral"),
    "articulation": ("Articulation sound", "Articulación de sonidos"),
    "language": ("Language", "Lenguaje"),
    "social": ("Social communication", "Comunicación social"),
    "fluency": ("Fluency", "Fluidez"),
    "attention": ("Attention", "Atención"),
}


def skill_label(key: str, language: str = "en") -> str:
    english, spanish = SKILLS.get(key, (key, key))
    return spanish if language == "es" else english
