"""Practice templates: a therapist saves a program's activities and doses as a template
from the builder and starts another child's program from it."""

import html

import pytest
from django.utils import timezone

from conftest import make_guardian, make_patient
from pedsdesk.audit.models import AuditEvent
from pedsdesk.hep.models import Activity, HomeProgram, ProgramTemplate
from pedsdesk.hep.tests.conftest import starter

pytestmark = pytest.mark.django_db


def builder_post(client, patient, rows, **extra):
    data = {"items": str(len(rows)), **extra}
    for i, (activity, days) in enumerate(rows):
        data.update({f"item-{i}-activity": activity.pk, f"item-{i}-repetitions": "8",
                     f"item-{i}-days_per_week": str(days)})
    return client.post(f"/patients/{patient.pk}/home-program/", data)


def test_save_a_template_then_start_another_childs_program_from_it(therapist, patient, practice, client_for):
    client = client_for(therapist)
    pinch, zipper = starter("ot-playdough-pinch"), starter("ot-zipper-coat")
    page = builder_post(client, patient, [(pinch, 5), (zipper, 3)], op="save_template",
                        template_name="  Fine   motor starter ", note="Ava did great today")
    assert page.status_code == 200
    assert "Saved as the practice's template “Fine motor starter”." in html.unescape(page.content.decode())
    template = ProgramTemplate.objects.get(practice=practice)
    assert template.name == "Fine motor starter" and template.created_by == therapist
    assert [(i.activity_id, i.repetitions, i.days_per_week) for i in template.items.all()] == [
        (pinch.pk, 8, 5), (zipper.pk, 8, 3)]
    assert AuditEvent.objects.filter(action="hep_template_saved", object_id=str(template.pk)).exists()
    assert not HomeProgram.objects.exists()  # saving a template sends nothing

    leo = make_patient(practice, "Leo", "Ng")
    make_guardian(leo, "Mai")
    blank = client.get(f"/patients/{leo.pk}/home-program/").content.decode()
    assert "Template: Fine motor starter (2 activities)" in blank and blank.count('data-testid="hep-row"') == 0
    started = client.get(f"/patients/{leo.pk}/home-program/?start=template:{template.pk}").content.decode()
    assert started.count('data-testid="hep-row"') == 2
    assert 'name="item-1-days_per_week" value="3"' in started
    assert "Ava did great today" not in started  # the note is the child's, not the template's


def test_the_same_name_replaces_its_activities_and_a_bad_one_says_what_to_fix(therapist, patient, client_for):
    client = client_for(therapist)
    bridges = starter("pt-bridges")
    builder_post(client, patient, [(bridges, 5)], op="save_template", template_name="Core")
    page = builder_post(client, patient, [(bridges, 4), (starter("ot-zipper-coat"), 2)], op="save_template",
                        template_name="core")
    assert "Template “Core” now holds these activities." in page.content.decode()
    assert ProgramTemplate.objects.get().items.count() == 2
    for name, words in (("", "Name the template"), ("x" * 81, "at most 80 characters"),
                        ("Core\x07", "control character")):
        refused = builder_post(client, patient, [(bridges, 5)], op="save_template", template_name=name)
        assert refused.status_code == 400 and words in refused.content.decode()
    empty = builder_post(client, patient, [], op="save_template", template_name="Empty")
    assert empty.status_code == 400 and "at least one activity" in empty.content.decode()
    bad_dose = builder_post(client, patient, [(bridges, 9)], op="save_template", template_name="Bad")
    assert bad_dose.status_code == 400 and "Use a number from 1 to 7; 9 is outside that range." in \
        bad_dose.content.decode()
    assert list(ProgramTemplate.objects.values_list("name", flat=True)) == ["Core"]


def test_an_archived_activity_is_left_out_and_said_so(therapist, patient, practice, client_for):
    client = client_for(therapist)
    mine = Activity.objects.create(practice=practice, discipline="OT", title_en="Clothespins", title_es="Pinzas",
                                   steps_en="a\nb", steps_es="a\nb")
    builder_post(client, patient, [(mine, 5), (starter("pt-bridges"), 5)], op="save_template", template_name="Mix")
    Activity.objects.filter(pk=mine.pk).update(archived_at=timezone.now())
    template = ProgramTemplate.objects.get()
    page = client.get(f"/patients/{patient.pk}/home-program/?start=template:{template.pk}").content.decode()
    assert page.count('data-testid="hep-row"') == 1 and "Left out 1 of the activities of “Mix”" in page


def test_templates_are_the_practices_own_and_removing_one_keeps_nothing_half(therapist, front_desk, patient,
                                                                             outsider, client_for):
    client = client_for(therapist)
    builder_post(client, patient, [(starter("pt-bridges"), 5)], op="save_template", template_name="Core")
    template = ProgramTemplate.objects.get()
    # Another practice neither starts from it nor removes it.
    theirs = client_for(outsider)
    assert theirs.post(f"/home-programs/templates/{template.pk}/archive/").status_code == 404
    # The front desk may not build programs, so may not save or remove templates either.
    assert client_for(front_desk).post(f"/home-programs/templates/{template.pk}/archive/").status_code == 403
    library = client.get("/home-programs/library/").content.decode()
    assert library.count('data-testid="template-row"') == 1
    assert client.post(f"/home-programs/templates/{template.pk}/archive/").status_code == 302
    template.refresh_from_db()
    assert template.archived_at is not None and template.items.count() == 1
    assert "No templates yet." in client.get("/home-programs/library/").content.decode()
    page = client.get(f"/patients/{patient.pk}/home-program/?start=template:{template.pk}").content.decode()
    assert "Template: Core" not in page
    # The name is free again.
    builder_post(client, patient, [(starter("pt-bridges"), 5)], op="save_template", template_name="Core")
    assert ProgramTemplate.objects.filter(archived_at__isnull=True).count() == 1
