"""Compile the project's .po catalogs to .mo with polib (GNU gettext is not needed).

    pedsdesk compile_translations           # write every django.mo next to its django.po
    pedsdesk compile_translations --check   # fail if a committed .mo is out of date
"""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalogs() -> list[Path]:
    """The project's catalog and each pedsdesk app's own (``<app>/locale``), which Django finds by itself."""
    roots = [Path(root) for root in settings.LOCALE_PATHS]
    roots += [Path(app.path) / "locale" for app in apps.get_app_configs() if app.name.startswith("pedsdesk.")]
    return sorted({p for root in roots for p in root.glob("*/LC_MESSAGES/*.po")})


def entries(catalog) -> dict:
    """A catalog's translations, comparable between a .po and a .mo."""
    return {
        (e.msgctxt, e.msgid, e.msgid_plural): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in catalog
        if not e.obsolete and "fuzzy" not in e.flags
    }


def compile_po(po_path: Path, mo_path: Path) -> None:
    import polib  # a development dependency, like the catalogs' editing

    polib.pofile(str(po_path)).save_as_mofile(str(mo_path))


def is_current(po_path: Path) -> bool:
    import polib

    mo_path = po_path.with_suffix(".mo")
    return mo_path.exists() and entries(polib.pofile(str(po_path))) == entries(polib.mofile(str(mo_path)))


class Command(BaseCommand):
    help = "Compile .po translation catalogs to .mo with polib."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only report catalogs whose .mo is stale.")

    def handle(self, *args, check: bool = False, **options):
        stale = []
        for po_path in catalogs():
            if check:
                if not is_current(po_path):
                    stale.append(str(po_path))
                continue
            compile_po(po_path, po_path.with_suffix(".mo"))
            self.stdout.write(f"compiled {po_path.with_suffix('.mo')}")
        if stale:
            raise CommandError("Out of date; run compile_translations: " + ", ".join(stale))
