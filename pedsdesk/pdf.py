"""Printable documents with fpdf2: a letter-size page with a footer, headings, label and
value pairs, and grids.

fpdf2 is pure Python (no system libraries), and its built-in Helvetica needs no font
files; that font covers Latin-1, so text is folded to it (Spanish names keep their
accents, typographic dashes and quotes become plain ones).
"""

import datetime as dt

from fpdf import FPDF
from fpdf.fonts import FontFace

_FOLD = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "•": "-", "…": "...",
                       "·": "-", "≥": ">=", "≤": "<="})
_HEADING = FontFace(emphasis="BOLD", fill_color=(232, 236, 242))


def pdf_text(value: object) -> str:
    text = "" if value is None else str(value)
    return text.translate(_FOLD).encode("latin-1", "replace").decode("latin-1")


def pdf_date(day: dt.date | None) -> str:
    return f"{day:%m/%d/%Y}" if day else "-"


class DocumentPDF(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="letter")
        self.title_text = title
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 16, 18)
        self.set_title(title)
        self.set_creator("pedsdesk")

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("Helvetica", size=8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, pdf_text(f"{self.title_text} - page {self.page_no()} of {{nb}} - "
                              "Confidential health information"), align="C")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 50:  # no heading alone at the foot of a page
            self.add_page()
        self.ln(3)
        self.set_font("Helvetica", style="B", size=12)
        self.cell(0, 7, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(150, 150, 150)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(2)
        self.set_font("Helvetica", size=10)

    def pairs(self, rows: list[tuple[str, object]], columns: int = 2) -> None:
        """Label and value pairs, ``columns`` pairs to a row."""
        widths = (16, 34) * columns if columns > 1 else (32, 68)
        with self.table(col_widths=widths, first_row_as_headings=False, borders_layout="NONE",
                        line_height=4.8, padding=(0.4, 1), text_align="LEFT") as table:
            for start in range(0, len(rows), columns):
                row = table.row()
                for label, value in rows[start:start + columns]:
                    row.cell(pdf_text(label), style=FontFace(emphasis="BOLD"))
                    row.cell(pdf_text(value if value not in (None, "") else "-"))
                for _ in range(columns - len(rows[start:start + columns])):
                    row.cell("")
                    row.cell("")

    def grid(self, headings: list[str], rows: list[list[object]], widths: tuple[int, ...]) -> None:
        with self.table(col_widths=widths, headings_style=_HEADING, line_height=5.5,
                        text_align="LEFT", padding=1) as table:
            head = table.row()
            for heading in headings:
                head.cell(pdf_text(heading))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(pdf_text(value))
