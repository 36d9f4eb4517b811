import gettext
import re
from pathlib import Path

import polib
from django.conf import settings
from django.utils import translation

from pedsdesk.portal.management.commands.compile_translations import catalogs, compile_po, entries
from pedsdesk.portal.tests.extract import portal_messages

SPANISH = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"
_PLACEHOLDER = re.compile(r"%\(\w+\)s")


def test_the_committed_mo_matches_the_po(tmp_path):
    fresh = tmp_path / "django.mo"
    compile_po(SPANISH, fresh)
    committed = entries(polib.mofile(str(SPANISH.with_suffix(".mo"))))
    assert committed == entries(polib.mofile(str(fresh))), "run: pedsdesk compile_translations"
    assert committed == entries(polib.pofile(str(SPANISH)))
    # Python's own gettext reads it too.
    with SPANISH.with_suffix(".mo").open("rb") as handle:
        assert gettext.GNUTranslations(handle).gettext("Hello, %(name)s") == "Hola, %(name)s"


def test_every_catalog_is_compiled():
    for po_path in catalogs():
        assert entries(polib.pofile(str(po_path))) == entries(polib.mofile(str(po_path.with_suffix(".mo")))), po_path


def test_every_portal_string_has_a_spanish_translation():
    catalog = {(e.msgctxt, e.msgid, e.msgid_plural or None): e for e in polib.pofile(str(SPANISH))}
    messages = portal_messages()
    assert len(messages) > 20
    missing = sorted(m[1] for m in messages if m not in catalog)
    assert not missing, f"add to {SPANISH}: {missing}"
    for key in messages:
        entry = catalog[key]
        assert not entry.obsolete and "fuzzy" not in entry.flags, entry.msgid
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        assert translations and all(translations), f"no Spanish for {entry.msgid!r}"
        for text in translations:
            # A dropped or misspelt %(name)s would raise at render time.
            assert set(_PLACEHOLDER.findall(text)) == set(_PLACEHOLDER.findall(entry.msgid)), entry.msgid


def test_django_loads_the_spanish_catalog():
    with translation.override("es"):
        assert translation.gettext("This link has expired") == "Este enlace ya venció"
        one = translation.ngettext("%(visits)s visit a week, %(minutes)s minutes each",
                                   "%(visits)s visits a week, %(minutes)s minutes each", 1)
        three = translation.ngettext("%(visits)s visit a week, %(minutes)s minutes each",
                                     "%(visits)s visits a week, %(minutes)s minutes each", 3)
    assert one.startswith("%(visits)s visita ") and three.startswith("%(visits)s visitas ")
