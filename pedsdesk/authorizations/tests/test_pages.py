"""The authorization screens as staff use them: the board (filters, sorting, a fixed
number of queries), the detail page with its burn-down, the forms with the mistakes
people make, the renewal steps and the packet, the chart section, and who may do what."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import (
    make_authorization,
    make_coverage,
    make_patient,
    make_payer,
    make_plan_of_care,
    make_staff,
    next_weekday,
    signed_in,
)
from pedsdesk.audit.models import AuditEvent
from pedsdesk.authorizations.actions import open_renewal
from pedsdesk.authorizations.models import Authorization, AuthorizationStatus, Renewal, RenewalState, ServiceLine
from pedsdesk.scheduling.actions import book_appointment
from pedsdesk.scheduling.timeslots import local_to_utc

pytestmark = pytest.mark.django_db


def _book(front_desk, patient, therapist, day, **kwargs):
    return book_appointment(actor=front_desk, practice=patient.practice, therapist=therapist, patient=patient,
                            start_at=local_to_utc(day, dt.time(16), patient.practice.zone), minutes=45,
                            plan_of_care=patient.plans_of_care.first(), **kwargs)


def _rows(content: bytes) -> list[str]:
    return re.findall(r'<tr id="authorization-(\d+)"', content.decode())


def _more_children(practice, therapist, count: int, start: int = 0) -> None:
    payer = make_payer(practice, f"Payer {start}")
    for i in range(start, start + count):
        child = make_patient(practice, first=f"Kid{i}", last=f"Family{i}")
        authorization = make_authorization(make_coverage(child, payer), quantity=10 + i,
                                           end_date=dt.date(2027, 1, 10 + i))
        make_plan_of_care(child, therapist)
        if i % 2:
            open_renewal(authorization=authorization, today=dt.date(2026, 12, 20))


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_board_queries_do_not_grow_with_the_rows(billing, patient, therapist, working_week, front_desk):
    _book(front_desk, patient, working_week, next_weekday(1))
    _more_children(billing.practice, therapist, 2)
    client = signed_in(billing)
    urls = [reverse("authorization_board"), reverse("authorization_board") + "?show=all&sort=units_left",
            reverse("renewal_list") + "?state=all", reverse("patient_detail", args=[patient.pk])]
    client.get(urls[0])
    few = [_queries(client, url) for url in urls]
    _more_children(billing.practice, therapist, 12, start=2)
    for i in range(3):
        _book(front_desk, patient, working_week, next_weekday(2, i + 1))
    assert len(_rows(client.get(urls[0]).content)) == 15
    assert [_queries(client, url) for url in urls] == few


def test_board_filters_and_sorts(billing, patient, therapist, staff, practice):
    _more_children(practice, therapist, 3)
    speech = make_staff(practice, "sally", "therapist", discipline="SLP")
    child = make_patient(practice, "Mia", "Stone")
    other_payer = make_payer(practice, "Cedar Point")
    slp = make_authorization(make_coverage(child, other_payer), discipline="SLP", codes=("92507",), quantity=5)
    make_plan_of_care(child, speech, discipline="SLP")
    client = signed_in(billing)
    url = reverse("authorization_board")
    everyone = _rows(client.get(url).content)
    assert len(everyone) == 5
    assert _rows(client.get(url, {"discipline": "SLP"}).content) == [str(slp.pk)]
    assert _rows(client.get(url, {"payer": other_payer.pk}).content) == [str(slp.pk)]
    assert _rows(client.get(url, {"therapist": speech.pk}).content) == [str(slp.pk)]
    by_units = _rows(client.get(url, {"sort": "units_left"}).content)
    assert by_units[0] == str(slp.pk)  # 5 left
    by_days = _rows(client.get(url, {"sort": "days_left"}).content)
    assert by_days[0] != str(slp.pk) and by_days[-1] == str(Authorization.objects.get(coverage__patient=patient).pk)
    assert _rows(client.get(url, {"flag": "runs_out"}).content) == []
    # Nothing booked on any, but they end in January: not flagged until the practice's last weeks.
    assert _rows(client.get(url, {"flag": "unused_units"}).content) == []
    practice.unused_units_weeks = 26
    practice.save()
    assert len(_rows(client.get(url, {"flag": "unused_units"}).content)) == 5
    assert AuditEvent.objects.filter(action="list", object_type="authorizations.authorization").exists()


def test_detail_page_draws_the_burn_down_and_names_each_future_denial(front_desk, patient, working_week):
    authorization = Authorization.objects.get(coverage__patient=patient)
    authorization.lines.update(quantity=2)
    for weeks in (1, 2):
        _book(front_desk, patient, working_week, next_weekday(1, weeks))
    third = next_weekday(3, 2)
    _book(front_desk, patient, working_week, third, override_reason="family asked")
    response = signed_in(front_desk).get(reverse("authorization_detail", args=[authorization.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg class="burn-down"' in html and "<polyline" in html and 'role="img"' in html
    assert f"runs out {next_weekday(1, 2):%b} {next_weekday(1, 2).day}" in html
    assert f"ends {authorization.end_date:%b} {authorization.end_date.day}" in html
    assert "The chart as a table, week by week" in html
    assert f"{third:%a %b} {third.day}, {third.year}" in html and "uses more than the units left" in html
    assert ' style="' not in html  # the CSP allows no inline styles
    assert AuditEvent.objects.filter(action="view", object_type="authorizations.authorization").exists()


LINE = {"lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000"}


def _form(coverage, **overrides) -> dict:
    data = {"coverage": coverage.pk, "discipline": "OT", "number": "PA-NEW-7", "start_date": "2027-03-01",
            "end_date": "2027-08-31", "status": "approved", "notes": "", **LINE,
            "lines-0-cpt_codes": "97530, 97110", "lines-0-unit_type": "units", "lines-0-quantity": "96",
            "lines-1-cpt_codes": "", "lines-1-unit_type": "visits", "lines-1-quantity": ""}
    return {**data, **overrides}


def test_creating_an_authorization_with_its_lines(billing, patient):
    coverage = patient.coverages.get()
    response = signed_in(billing).post(reverse("authorization_create", args=[patient.pk]), _form(coverage))
    assert response.status_code == 302, response.content.decode()[:3000]
    created = Authorization.objects.get(number="PA-NEW-7")
    assert response["Location"] == created.get_absolute_url()
    assert [(ln.cpt_codes, ln.unit_type, ln.quantity) for ln in created.lines.all()] == [
        (["97530", "97110"], "units", 96)]
    edit = signed_in(billing).get(reverse("authorization_edit", args=[created.pk]))
    assert b"97530, 97110" in edit.content


@pytest.mark.parametrize(("overrides", "message"), [
    ({"end_date": "2027-02-01"}, "An authorization cannot end before it starts."),
    ({"lines-0-quantity": "0"}, "Authorized quantity must be at least 1."),
    ({"lines-0-quantity": "-5"}, "Ensure this value is greater than or equal to 0."),
    ({"lines-0-cpt_codes": "97530, 92507"}, "CPT code 92507 (Treatment of speech, language, voice, communication)"
                                            " is billed by SLP, not OT."),
    ({"lines-0-cpt_codes": "99999"}, "CPT code &#x27;99999&#x27; is not one pedsdesk knows"),
    ({"number": "PA-OT-{coverage}-2609", "start_date": "2027-01-01"},
     "is already recorded for overlapping dates; edit that one instead of entering it twice."),
    ({"lines-1-cpt_codes": "97110", "lines-1-quantity": "4", "lines-1-unit_type": "units"},
     "97110 is already on line 1; list each code on one line."),
    ({"lines-1-cpt_codes": "97533", "lines-1-quantity": "4", "lines-1-unit_type": "visits"},
     "All lines of one authorization count the same unit"),
    ({"lines-0-cpt_codes": "", "lines-0-quantity": "", "lines-0-unit_type": "visits"},
     "An authorization needs at least one service line"),
])
def test_bad_input_is_a_clear_error_and_nothing_is_written(billing, patient, overrides, message):
    coverage = patient.coverages.get()
    overrides = {k: v.format(coverage=coverage.pk) for k, v in overrides.items()}
    before = (Authorization.objects.count(), ServiceLine.objects.count())
    response = signed_in(billing).post(reverse("authorization_create", args=[patient.pk]),
                                       _form(coverage, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert (Authorization.objects.count(), ServiceLine.objects.count()) == before


def test_editing_keeps_everything_or_nothing(billing, patient):
    authorization = Authorization.objects.get(coverage__patient=patient)
    line = authorization.lines.get()
    data = {"coverage": authorization.coverage_id, "discipline": "OT", "number": authorization.number,
            "start_date": "2026-09-01", "end_date": "2027-02-28", "status": "approved", "notes": "",
            "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000", "lines-0-id": line.pk, "lines-0-authorization": authorization.pk,
            "lines-0-cpt_codes": "97530", "lines-0-unit_type": "visits", "lines-0-quantity": "0"}
    response = signed_in(billing).post(reverse("authorization_edit", args=[authorization.pk]),
                                       {**data, "end_date": "2027-03-31"})
    assert b"Authorized quantity must be at least 1." in response.content
    authorization.refresh_from_db()
    assert authorization.end_date == dt.date(2027, 2, 28) and authorization.lines.get().quantity == 48
    response = signed_in(billing).post(reverse("authorization_edit", args=[authorization.pk]),
                                       {**data, "lines-0-quantity": "40", "end_date": "2027-03-31"})
    assert response.status_code == 302
    authorization.refresh_from_db()
    assert authorization.end_date == dt.date(2027, 3, 31) and authorization.lines.get().quantity == 40


def test_the_renewal_steps_on_screen(front_desk, billing, therapist, patient):
    authorization = Authorization.objects.get(coverage__patient=patient)
    today = patient.practice.local_now().date()
    authorization.end_date = today + dt.timedelta(days=25)
    authorization.save()
    payer = authorization.coverage.payer
    payer.renewal_documents = ["progress_report"]
    payer.fax = "+15125550111"
    payer.save()
    desk, biller, theo = signed_in(front_desk), signed_in(billing), signed_in(therapist)
    response = desk.post(reverse("renewal_start", args=[authorization.pk]))
    renewal = Renewal.objects.get()
    assert response["Location"] == renewal.get_absolute_url()
    page = desk.get(renewal.get_absolute_url()).content.decode()
    assert "Waiting on therapist" in page and "Progress report" in page and "Record the submission" not in page

    item = renewal.items.get()
    assert theo.post(reverse("renewal_document", args=[item.pk]), {"received": "yes"}).status_code == 302
    renewal.refresh_from_db()
    assert renewal.state == RenewalState.READY
    assert theo.get(reverse("renewal_submit", args=[renewal.pk])).status_code == 403

    response = desk.post(reverse("renewal_submit", args=[renewal.pk]),
                         {"submitted_on": str(today + dt.timedelta(days=1)), "channel": "fax"})
    assert b"The submission date cannot be in the future." in response.content
    response = desk.post(reverse("renewal_submit", args=[renewal.pk]),
                         {"submitted_on": str(today), "channel": "fax", "payer_reference": "LS-9"})
    assert response.status_code == 302
    assert desk.post(reverse("renewal_pending", args=[renewal.pk])).status_code == 302
    renewal.refresh_from_db()
    assert renewal.state == RenewalState.PENDING

    packet = desk.get(reverse("renewal_packet", args=[renewal.pk]))
    assert packet["Content-Type"] == "application/pdf" and packet.content.startswith(b"%PDF-")
    assert packet["Content-Disposition"].startswith("attachment;")
    assert packet["X-Content-Type-Options"] == "nosniff" and packet["Cache-Control"].startswith("private, no-store")
    assert AuditEvent.objects.filter(action="export", object_type="authorizations.renewal").exists()

    line = renewal.lines.get()
    decision = {"decision": "approved", "decided_on": str(today), "number": "LS-NEXT",
                "start_date": str(renewal.requested_start), "end_date": str(renewal.requested_end),
                f"line_{line.pk}": "30"}
    assert desk.get(reverse("renewal_decide", args=[renewal.pk])).status_code == 403
    response = biller.post(reverse("renewal_decide", args=[renewal.pk]), {**decision, "number": ""})
    assert b"This field cannot be blank." in response.content
    response = biller.post(reverse("renewal_decide", args=[renewal.pk]), decision, follow=True)
    following = Authorization.objects.get(number="LS-NEXT")
    assert following.status == AuthorizationStatus.PARTIALLY_APPROVED and following.previous == authorization
    assert "Recorded as a partial approval" in response.content.decode()
    assert "asked 48" in response.content.decode()


def test_the_chart_shows_authorizations_and_benefit_buckets(front_desk, patient, working_week):
    _book(front_desk, patient, working_week, next_weekday(1))
    html = signed_in(front_desk).get(reverse("patient_detail", args=[patient.pk])).content.decode()
    section = html[html.index('id="authorizations"'):]
    authorization = Authorization.objects.get(coverage__patient=patient)
    assert f"#{authorization.number}" in section and "Benefit limits this plan year" in section
    assert "PT/OT combined" in section


def test_therapists_see_but_do_not_change(therapist, patient):
    authorization = Authorization.objects.get(coverage__patient=patient)
    client = signed_in(therapist)
    assert client.get(reverse("authorization_board")).status_code == 200
    assert client.get(reverse("authorization_detail", args=[authorization.pk])).status_code == 200
    assert client.get(reverse("authorization_edit", args=[authorization.pk])).status_code == 403
    assert client.post(reverse("renewal_start", args=[authorization.pk])).status_code == 403
    assert not Renewal.objects.exists()


def test_another_practice_gets_404(outsider, patient):
    authorization = Authorization.objects.get(coverage__patient=patient)
    renewal, _ = open_renewal(authorization=authorization, today=dt.date(2027, 2, 1))
    client = signed_in(outsider)
    for name, pk in [("authorization_detail", authorization.pk), ("authorization_edit", authorization.pk),
                     ("renewal_detail", renewal.pk), ("renewal_packet", renewal.pk),
                     ("renewal_decide", renewal.pk), ("authorization_create", patient.pk)]:
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
    assert client.post(reverse("renewal_start", args=[authorization.pk])).status_code == 404
    assert str(authorization.pk) not in _rows(client.get(reverse("authorization_board") + "?show=all").content)


def test_column_headers_sort_and_say_how(billing, patient, therapist, practice):
    _more_children(practice, therapist, 3)
    client = signed_in(billing)
    html = client.get(reverse("authorization_board"), {"payer": "", "sort": "units_left"}).content.decode()
    assert 'aria-sort="ascending"><a href="?payer=&amp;sort=-units_left">Left</a>' in html
    assert '<a href="?payer=&amp;sort=days_left">Days left</a>' in html
    most = _rows(client.get(reverse("authorization_board"), {"sort": "-units_left"}).content)
    fewest = _rows(client.get(reverse("authorization_board"), {"sort": "units_left"}).content)
    assert most == list(reversed(fewest))
