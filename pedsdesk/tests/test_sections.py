"""The pages that gather from several workflows read registries of sections: a section an
app registers shows on its page, and the pages' own modules import no workflow."""

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from conftest import next_weekday, signed_in
from pedsdesk.people.chart import CHART
from pedsdesk.portal.actions import create_family_link
from pedsdesk.portal.sections import PORTAL
from pedsdesk.portal.tests.helpers import path_of
from pedsdesk.practices.today import TODAY
from pedsdesk.scheduling.actions import book_appointment
from pedsdesk.scheduling.panel import VISIT_PANEL
from pedsdesk.scheduling.timeslots import local_to_utc

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ("scheduling", "authorizations", "hep", "schools", "interop")
# The modules that build the gathering pages, and the lower layers they stand on.
PLATFORM = ["sections.py", "people/chart.py", "people/queries.py", "people/views.py", "portal/sections.py",
            "portal/views.py", "practices/today.py", "practices/queries.py", "practices/views.py",
            "workqueue/queries.py", "workqueue/views.py"]
PAGE_TEMPLATES = ["people/templates/people/patient_detail.html", "portal/templates/portal/portal.html",
                  "practices/templates/practices/dashboard.html"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", PLATFORM)
def test_platform_modules_import_no_workflow(module):
    imported = _imports(ROOT / module)
    assert not [name for name in imported if name.split(".")[1:2] and name.split(".")[1] in WORKFLOWS
                and name.startswith("pedsdesk.")], imported


@pytest.mark.parametrize("template", PAGE_TEMPLATES)
def test_page_templates_include_no_workflow_template(template):
    text = (ROOT / template).read_text()
    assert not [w for w in WORKFLOWS if f'"{w}/' in text]


@pytest.fixture
def probe(tmp_path):
    """A section template of a pretend app, and a way to register it on any registry."""
    (tmp_path / "probe.html").write_text('<section id="probe">Probe for {{ section.who }}</section>')
    registered = []

    def register(registry, build, order=0):
        registry.section("probe", template="probe.html", order=order)(build)
        registered.append(registry)

    engine = settings.TEMPLATES[0]
    with override_settings(TEMPLATES=[{**engine, "DIRS": [*engine["DIRS"], tmp_path]}]):
        yield register
    for registry in registered:
        registry.unregister("probe")


@pytest.mark.django_db
def test_a_registered_chart_section_shows_and_none_leaves_it_out(probe, front_desk, patient):
    probe(CHART, lambda chart: {"who": chart.patient.first_name} if chart.may("patients.view") else None)
    body = signed_in(front_desk).get(patient.get_absolute_url()).content.decode()
    assert "Probe for Ava" in body
    # The schedule's and authorizations' own sections come through the same registry.
    assert 'id="upcoming-visits"' in body and 'id="coverages"' in body
    probe(CHART, lambda chart: None)
    assert "Probe for" not in signed_in(front_desk).get(patient.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_sections_keep_their_order(probe, front_desk, patient):
    probe(CHART, lambda chart: {"who": "last"}, order=1000)
    body = signed_in(front_desk).get(patient.get_absolute_url()).content.decode()
    assert body.index('id="upcoming-visits"') < body.index('id="probe"')
    assert [s.key for s in CHART.registered()][:2] == ["coverages", "upcoming-visits"]


@pytest.mark.django_db
def test_a_registered_portal_section_shows(probe, owner, patient):
    guardian = patient.guardians.get(first_name="Rosa")
    probe(PORTAL, lambda page: {"who": page.child_name})
    _, url = create_family_link(actor=owner, guardian=guardian, patient=patient)
    body = Client().get(path_of(url)).content.decode()
    assert "Probe for Ava" in body and 'id="visits"' in body


@pytest.mark.django_db
def test_a_registered_today_section_shows_for_the_roles_it_chooses(probe, therapist, billing):
    probe(TODAY, lambda page: {"who": page.user.first_name} if page.role == "therapist" else None)
    assert "Probe for Theo" in signed_in(therapist).get(reverse("dashboard")).content.decode()
    assert "Probe for" not in signed_in(billing).get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_a_registered_visit_panel_section_shows(probe, front_desk, patient, working_week, practice):
    probe(VISIT_PANEL, lambda panel: {"who": panel.appointment.patient.first_name})
    day = next_weekday(1)
    visit = book_appointment(actor=front_desk, practice=practice, therapist=working_week, patient=patient,
                             start_at=local_to_utc(day, dt.time(16), practice.zone), minutes=45,
                             plan_of_care=patient.plans_of_care.first())
    client = signed_in(front_desk)
    assert "Probe for Ava" in client.get(reverse("appointment_detail", args=[visit.pk]),
                                         HTTP_HX_REQUEST="true").content.decode()
    assert "Probe for Ava" in client.get(reverse("appointment_detail", args=[visit.pk])).content.decode()
