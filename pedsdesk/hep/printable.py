"""The one-page printable program (fpdf2, as the renewal packet): the family's language,
Helvetica folded to Latin-1 (Spanish accents stay)."""

from __future__ import annotations

import io

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from pedsdesk.authorizations.packet import _text
from pedsdesk.files.storage import private_storage
from pedsdesk.hep.family import FamilyActivity

#: The child's photo on the printout: small, so four activities still fit on one page.
PHOTO_HEIGHT_MM = 28


def program_pdf(*, practice_name: str, practice_phone: str, heading: str, updated_label: str, note: str,
                activities: list[FamilyActivity], watch_label: str) -> bytes:
    pdf = FPDF(format="letter")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_margins(16, 14, 16)
    pdf.set_title(_text(heading))
    pdf.set_creator("pedsdesk")
    pdf.add_page()
    # Four activities fit on one page at this size; more get a smaller type so it still does.
    size = 10 if len(activities) <= 4 else 8.5
    line = 5 if len(activities) <= 4 else 4
    pdf.set_font("Helvetica", style="B", size=15)
    pdf.multi_cell(0, 8, _text(heading), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9)
    pdf.cell(0, 5, _text(f"{practice_name} - {practice_phone} - {updated_label}"), new_x=XPos.LMARGIN,
             new_y=YPos.NEXT)
    if note:
        pdf.ln(2)
        pdf.set_font("Helvetica", style="I", size=size)
        pdf.multi_cell(0, line, _text(note), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for number, activity in enumerate(activities, start=1):
        pdf.ln(2)
        pdf.set_font("Helvetica", style="B", size=size + 1.5)
        pdf.multi_cell(0, line + 1, _text(f"{number}. {activity.title}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", size=size)
        pdf.multi_cell(0, line, _text(activity.dose), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if activity.photo is not None:  # the child's own photo (their program's, never the library's)
            with private_storage().open(activity.photo.storage_name) as stored:
                pdf.image(io.BytesIO(stored.read()), h=PHOTO_HEIGHT_MM)
        for step in activity.steps:
            pdf.multi_cell(0, line, _text(f"- {step}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if activity.watch:
            pdf.set_font("Helvetica", style="I", size=size)
            pdf.multi_cell(0, line, _text(f"{watch_label} {activity.watch}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
