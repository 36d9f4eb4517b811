"""The sweeps fan out per practice, under a lease, each run recorded; a failing
practice is retried alone; `pedsdesk sweep --status` and the owner's page show it."""

import datetime as dt
import io
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from conftest import (
    make_authorization,
    make_coverage,
    make_patient,
    make_payer,
    make_practice,
    make_staff,
    signed_in,
)
from pedsdesk import sweeps
from pedsdesk.messaging.actions import queue_message
from pedsdesk.operations import runner
from pedsdesk.operations.models import SweepLease, SweepMark, SweepRun, WorkerHeartbeat
from pedsdesk.operations.queries import sweep_status
from pedsdesk.operations.tasks import fan_out, sweep_every_day, sweep_every_hour, sweep_every_minute
from pedsdesk.practices.models import Role
from pedsdesk.scheduling.actions import set_status
from pedsdesk.scheduling.models import Appointment, AppointmentStatus
from pedsdesk.sweeps import Sweep, registered
from pedsdesk.workqueue.models import OPEN_STATUSES, Task, TaskStatus
from pedsdesk.workqueue.rules import rule_marks


@pytest.fixture
def console_outbox(settings, tmp_path):
    settings.PEDSDESK_EMAIL_CHANNEL = "console"
    settings.PEDSDESK_SMS_CHANNEL = "console"
    settings.DATA_DIR = tmp_path
    return tmp_path / "outbox"


@pytest.fixture
def flaky(monkeypatch):
    """A per-practice sweep that fails for the practices named in ``flaky.failing``."""
    calls = []

    def run(*, practice):
        calls.append(practice.pk)
        if practice.pk in flaky.failing:
            raise RuntimeError(f"bad row in practice {practice.pk}")
        return {"done": 1}

    flaky = SimpleNamespace(failing=set(), calls=calls)
    monkeypatch.setitem(sweeps._SWEEPS, "test.flaky", Sweep("test.flaky", "hourly", run, per_practice=True))
    return flaky


def test_the_periodic_ticks_fan_out_to_every_practice_and_deliver(console_outbox, practice, patient, other_practice):
    queue_message(practice=practice, kind="notice", recipient=patient.guardians.get(), context={},
                  idempotency_key="tick:1", channel="email")
    minute_runs = 2 + len(registered("minute", per_practice=False))
    assert sweep_every_minute.call_local() == {"practices": 2, "queued": 2, "runs": minute_runs}
    # huey ran one task per practice (immediate mode in tests) and the global sweeps.
    for each in (practice, other_practice):
        assert SweepRun.objects.filter(practice=each, sweep="workqueue.rules_minute", error="").count() == 1
    assert SweepRun.objects.filter(practice=None, sweep="messaging.deliver_due").count() == 1
    assert len((console_outbox / "email.log").read_text().splitlines()) == 1
    assert sweep_every_hour.call_local()["queued"] == 2 == sweep_every_day.call_local()["queued"]
    assert SweepRun.objects.filter(practice=practice, sweep="authorizations.daily").exists()
    assert WorkerHeartbeat.objects.get(worker=runner.worker_name()).tasks_run >= 3


def minute_rule_runs(practice):
    return SweepRun.objects.filter(practice=practice, sweep="workqueue.rules_minute").count()


def test_a_minute_with_nothing_new_runs_no_practices_rules_and_a_change_runs_only_its_practice(
        practice, other_practice, patient, staff, django_capture_on_commit_callbacks):
    """The minute's rules read what is due (visits to confirm, questions to answer); a
    practice whose marks did not move gets no task, and its status stays up to date."""
    globals_only = len(registered("minute", per_practice=False))
    assert fan_out("minute")["queued"] == 2
    assert fan_out("minute") == {"practices": 2, "queued": 0, "runs": globals_only}
    assert minute_rule_runs(practice) == 1 == minute_rule_runs(other_practice)

    start = timezone.now() + dt.timedelta(hours=3)
    visit = Appointment.objects.create(practice=practice, patient=patient, therapist=staff[Role.THERAPIST],
                                       start_at=start, end_at=start + dt.timedelta(minutes=45))
    assert fan_out("minute") == {"practices": 2, "queued": 1, "runs": 1 + globals_only}
    assert minute_rule_runs(practice) == 2 and minute_rule_runs(other_practice) == 1
    task = Task.objects.get(kind="visit_unconfirmed", subject_id=visit.pk, status__in=OPEN_STATUSES)
    assert fan_out("minute")["queued"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        set_status(actor=staff[Role.FRONT_DESK], appointment=visit, status=AppointmentStatus.CONFIRMED)
    assert fan_out("minute")["queued"] == 1
    assert Task.objects.get(pk=task.pk).status == TaskStatus.CANCELLED

    # Half an hour on, the quiet practice's last run is old, but the fan-out found nothing new.
    SweepRun.objects.filter(practice=other_practice).update(started_at=F("started_at") - dt.timedelta(minutes=30),
                                                            finished_at=F("finished_at") - dt.timedelta(minutes=30))
    row = next(r for r in sweep_status(practice=other_practice) if r.sweep == "workqueue.rules_minute")
    assert not row.late and row.state == "ok"


def test_a_practice_whose_marks_never_move_still_runs_its_minute_rules_every_hour(practice, other_practice):
    now = timezone.now()
    fan_out("minute", now=now)
    queued = [fan_out("minute", now=now + dt.timedelta(minutes=m))["queued"] for m in range(1, 61)]
    assert sum(queued) == 2 and max(queued) == 1  # each practice once, at its own minute


def hourly_rule_runs(practice):
    return SweepRun.objects.filter(practice=practice, sweep="workqueue.rules_hourly").count()


def test_an_hour_with_nothing_new_skips_the_practices_rules_until_what_they_read_moves_or_the_day_turns(
        practice, other_practice, patient):
    """Every hourly rule marks what it reads (plans of care, coverages, guardians, renewals,
    visit history, home programs, school requests and meetings) and the practice's date."""
    now = timezone.now()
    assert rule_marks("hourly", now) is not None  # no hourly rule without a mark
    assert fan_out("hourly", now=now)["queued"] == 2
    fan_out("hourly", now=now)
    assert hourly_rule_runs(practice) == 1 == hourly_rule_runs(other_practice)
    # The reminders, the escalation and the digest still look every hour: a query or two.
    assert SweepRun.objects.filter(practice=practice, sweep="workqueue.escalate").count() == 2

    plan = patient.plans_of_care.get()
    plan.end_date = practice.local_now().date() + dt.timedelta(days=10)  # a plan of care ends soon
    plan.save()
    fan_out("hourly", now=now)
    assert hourly_rule_runs(practice) == 2 and hourly_rule_runs(other_practice) == 1
    assert Task.objects.filter(kind="plan_of_care_renewal", subject_id=plan.pk, status__in=OPEN_STATUSES).exists()

    guardian = patient.guardians.get()
    guardian.phone, guardian.email = "", ""  # nobody can reach them now
    guardian.save()
    fan_out("hourly", now=now)
    assert hourly_rule_runs(practice) == 3
    assert Task.objects.filter(kind="guardian_unreachable", subject_id=guardian.pk, status__in=OPEN_STATUSES).exists()

    fan_out("hourly", now=now + dt.timedelta(days=1))  # "ends in 9 days": the day turned everywhere
    assert hourly_rule_runs(practice) == 4 and hourly_rule_runs(other_practice) == 2


def test_a_failed_minute_run_keeps_no_mark_so_the_next_minute_tries_again(practice, monkeypatch):
    def broken(*, practice):
        raise RuntimeError("bad row")

    name = "workqueue.rules_minute"
    monkeypatch.setitem(sweeps._SWEEPS, name, Sweep(
        name, "minute", broken, True, sweeps._SWEEPS[name].due))
    assert fan_out("minute")["queued"] == 1
    assert not SweepMark.objects.filter(practice=practice).exists()
    assert fan_out("minute")["queued"] == 1
    settings.HUEY.flush()  # the retries it scheduled


def test_the_per_practice_sweeps_are_registered_as_such():
    per_practice = {s.name for s in registered(per_practice=True)}
    assert {"authorizations.daily", "scheduling.series_extend", "workqueue.rules_minute",
            "workqueue.escalate", "workqueue.daily_digest"} <= per_practice
    assert "messaging.deliver_due" in {s.name for s in registered(per_practice=False)}


def test_a_failing_practice_is_recorded_retried_alone_and_holds_up_nobody(flaky, practice, other_practice):
    flaky.failing = {practice.pk}
    sweep_every_hour.call_local()
    bad = SweepRun.objects.get(sweep="test.flaky", practice=practice)
    good = SweepRun.objects.get(sweep="test.flaky", practice=other_practice)
    assert bad.state == "failed" and "bad row in practice" in bad.error and bad.finished_at
    assert good.state == "ok" and good.counts == {"done": 1}
    # The other practice's other hourly sweeps ran too.
    assert SweepRun.objects.filter(practice=other_practice, sweep="workqueue.escalate", error="").exists()
    # One retry is waiting in huey's schedule: the failed sweep alone, for that practice alone.
    scheduled = settings.HUEY.scheduled()
    assert [(t.args[1], t.args[2]) for t in scheduled] == [(practice.pk, ["test.flaky"])]


def test_two_runs_of_one_practice_never_overlap_and_a_dead_workers_lease_runs_out(flaky, practice):
    with runner.sweep_lease(f"hourly:{practice.pk}", 900) as held:
        assert held is not None
        # A second worker arrives while the first still holds the practice.
        assert runner.run_practice_sweeps(schedule="hourly", practice=practice) == {
            "skipped": "another worker is running them"}
        assert flaky.calls == []
    # A worker killed mid-sweep leaves its lease; once it runs out the next run goes ahead.
    SweepLease.objects.filter(key=f"hourly:{practice.pk}").update(
        token="dead-worker", held_until=timezone.now() - dt.timedelta(seconds=1))
    assert runner.run_practice_sweeps(schedule="hourly", practice=practice)["test.flaky"] == {"done": 1}
    assert SweepLease.objects.get(key=f"hourly:{practice.pk}").token == ""


def test_sweep_status_shows_the_last_runs_and_fails_on_a_failing_one(flaky, practice, other_practice):
    call_command("sweep", schedule="minute", stdout=io.StringIO())
    out = io.StringIO()
    call_command("sweep", "--status", "--practice", str(other_practice.pk), stdout=out)
    text = out.getvalue()
    assert "workqueue.rules_minute" in text and "ok" in text
    flaky.failing = {practice.pk}
    with pytest.raises(CommandError, match=r"Failed: test\.flaky"):
        call_command("sweep", schedule="hourly", stdout=io.StringIO())
    out = io.StringIO()
    with pytest.raises(CommandError, match="late or failing"):
        call_command("sweep", "--status", stdout=out)
    line = next(row for row in out.getvalue().splitlines()
                if row.startswith("test.flaky") and f" {practice.pk} " in row)
    assert "failing" in line and "RuntimeError: bad row" in line


def test_a_sweep_whose_last_good_run_is_old_is_late(practice):
    old = timezone.now() - dt.timedelta(minutes=30)
    SweepRun.objects.create(practice=practice, sweep="workqueue.rules_minute", schedule="minute",
                            started_at=old, finished_at=old)
    from pedsdesk.operations.queries import sweep_status

    row = next(r for r in sweep_status(practice=practice) if r.sweep == "workqueue.rules_minute")
    assert row.late and row.state == "late"


def test_the_owner_sees_their_practice_sweeps_and_nobody_else_does(flaky, practice, other_practice, staff,
                                                                    django_assert_max_num_queries):
    flaky.failing = {other_practice.pk}
    runner.run_sweeps("hourly")
    owner = signed_in(staff[Role.OWNER])
    with django_assert_max_num_queries(12):
        page = owner.get("/operations/sweeps/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "test.flaky" in body and "Every sweep that has run is on time" in body
    assert "failing" not in body  # the other practice's failure is not theirs
    for role in (Role.OFFICE_MANAGER, Role.FRONT_DESK, Role.THERAPIST, Role.BILLING):
        assert signed_in(staff[role]).get("/operations/sweeps/").status_code == 403
    outsider = make_staff(make_practice("Elsewhere Therapy"), "elsewhere-owner", Role.OWNER)
    page = signed_in(outsider).get("/operations/sweeps/")
    assert page.status_code == 200 and "failing" not in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_practice_run_its_sweep_once(monkeypatch):
    import threading
    import time

    from django.db import connection

    practice = make_practice("Race Practice")
    calls = []

    def slow(*, practice):
        calls.append(practice.pk)
        time.sleep(0.3)
        return {"done": 1}

    monkeypatch.setattr(sweeps, "_SWEEPS", {"test.slow": Sweep("test.slow", "daily", slow, per_practice=True)})
    results, start = [], threading.Barrier(2)

    def worker():
        try:
            start.wait()
            results.append(runner.run_practice_sweeps(schedule="daily", practice=practice))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [practice.pk]
    assert sorted(results, key=str) == sorted([{"test.slow": {"done": 1}},
                                               {"skipped": "another worker is running them"}], key=str)
    assert SweepRun.objects.filter(sweep="test.slow").count() == 1


def test_a_practices_daily_tick_projects_its_authorizations_once_unless_a_step_changes_them(
        practice, patient, monkeypatch):
    """The statuses, the renewals and the daily rules read one projection of every
    authorization; a step that changes what it was read from (an authorization expiring,
    a series booked) makes the next step project again."""
    from pedsdesk.authorizations import queries
    from pedsdesk.authorizations.models import Authorization, AuthorizationStatus

    whole_practice = []
    projected = queries.project_authorizations

    def counting(practice, authorizations=None, **kwargs):
        if authorizations is None:
            whole_practice.append(practice.pk)
        return projected(practice, authorizations, **kwargs)

    monkeypatch.setattr(queries, "project_authorizations", counting)
    sibling = make_patient(practice, "Leo", "Lopez")
    make_authorization(make_coverage(sibling, make_payer(practice, "Blue Cross")))
    daily = ["authorizations.daily", "workqueue.rules_daily"]
    runner.run_practice_sweeps(schedule="daily", practice=practice, only=daily)
    assert whole_practice == [practice.pk]

    authorization = Authorization.objects.get(coverage__patient=patient)
    authorization.start_date, authorization.end_date = dt.date(2025, 1, 1), dt.date(2025, 6, 30)
    authorization.save()  # it ended: the statuses expire it, and the rules must see that
    whole_practice.clear()
    runner.run_practice_sweeps(schedule="daily", practice=practice, only=daily)
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.EXPIRED
    assert whole_practice == [practice.pk, practice.pk]  # the renewals and the rules read the new one
