"""Staff pages: the program builder, version history, caseload and library (thin: the
work is in actions and queries)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_POST

from pedsdesk.audit.actions import record_event
from pedsdesk.files.responses import file_response
from pedsdesk.hep import actions, queries
from pedsdesk.hep.family import family_activity, program_view
from pedsdesk.hep.forms import ActivityForm, ItemPhotoForm, ItemRowForm, NoteForm, PolicyForm
from pedsdesk.hep.models import (
    ONE_PAGE_ACTIVITIES,
    Activity,
    Delivery,
    Feedback,
    HepPolicy,
    ProgramItem,
    ProgramTemplate,
    ProgramVersion,
)
from pedsdesk.hep.skills import SKILLS
from pedsdesk.people.models import GuardianOf, Patient
from pedsdesk.practices.models import Discipline
from pedsdesk.practices.web import practice_object, requires

SEARCH_LIMIT = 12


def _search(request: HttpRequest, q: str, discipline: str) -> list[Activity]:
    found = actions.visible_activities(request.user.practice)
    if discipline in Discipline.values:
        found = found.filter(discipline=discipline)
    for term in q.split()[:5]:
        match = Q(title_en__icontains=term) | Q(title_es__icontains=term) | Q(steps_en__icontains=term) \
            | Q(steps_es__icontains=term) | Q(key__icontains=term)
        # Skill tags are stored as a JSON list of keys: the quoted key is in its text on both databases.
        for key in (key for key, names in SKILLS.items() if term.lower() in " ".join(names).lower()):
            match |= Q(skills__icontains=f'"{key}"')
        found = found.filter(match)
    return list(found.order_by("discipline", "title_en")[:SEARCH_LIMIT])


def _rows_from_post(request: HttpRequest) -> list[ItemRowForm]:
    try:
        count = min(int(request.POST.get("items", "0")), actions.MAX_ITEMS + 1)
    except ValueError:
        count = 0
    return [ItemRowForm(request.POST, prefix=f"item-{i}") for i in range(count)]


def _row(activity: Activity, **dose) -> ItemRowForm:
    values = {"activity": activity.pk, "repetitions": activity.repetitions, "sets": activity.sets,
              "minutes": activity.minutes, "days_per_week": activity.days_per_week, **dose}
    return ItemRowForm(initial=values)


def _items(rows: list[ItemRowForm]) -> list[actions.ItemInput] | None:
    if not all(row.is_valid() for row in rows):
        return None
    return [actions.ItemInput(activity_id=row.cleaned_data["activity"], repetitions=row.cleaned_data["repetitions"],
                              sets=row.cleaned_data["sets"], minutes=row.cleaned_data["minutes"],
                              days_per_week=row.cleaned_data["days_per_week"]) for row in rows]


def _row_value(row: ItemRowForm, name: str):
    if row.is_bound:
        return row.cleaned_data.get(name) if row.is_valid() else row.data.get(row.add_prefix(name))
    return row.initial.get(name)


def _renumbered(row: ItemRowForm, position: int) -> ItemRowForm:
    """The row as the page shows it now, named by its place (rows come and go); a row
    that failed its checks keeps what was typed and its errors."""
    if row.is_bound and not row.is_valid():
        data = {f"item-{position}-{name}": row.data.get(row.add_prefix(name)) for name in row.fields}
        renamed = ItemRowForm(data, prefix=f"item-{position}")
        renamed.is_valid()
        return renamed
    return ItemRowForm(prefix=f"item-{position}", initial={name: _row_value(row, name) for name in row.fields})


def _preview(patient: Patient, rows: list[ItemRowForm], activities: dict[int, Activity], note: str,
             language: str) -> str:
    with translation.override(language):
        shown = [family_activity(activities[int(_row_value(r, "activity"))], language,
                                 repetitions=_row_value(r, "repetitions"), sets=_row_value(r, "sets"),
                                 minutes=_row_value(r, "minutes"), days_per_week=int(_row_value(r, "days_per_week")
                                                                                     or 5))
                 for r in rows if _row_value(r, "activity") and int(_row_value(r, "activity")) in activities]
        context = {"section": program_view(activities=shown, note=note, child=patient.preferred_name
                                           or patient.first_name, updated=None, zone=patient.practice.zone),
                   "preview": True}
        return render_to_string("hep/_family_program.html", context)


def _template(request: HttpRequest, start: str) -> ProgramTemplate | None:
    """The practice's live template ``start`` names ("template:<id>"), if any."""
    if not (start.startswith("template:") and start[9:].isdigit()):
        return None
    return actions.live_templates(request.user.practice).filter(pk=int(start[9:])).first()


def _template_rows(request: HttpRequest, template: ProgramTemplate) -> list[ItemRowForm]:
    """The template's activities as builder rows; ones since removed from the library are left out, and said so."""
    visible = actions.visible_activities(request.user.practice)
    items = list(template.items.filter(activity__in=visible).select_related("activity"))
    gone = template.items.count() - len(items)
    if gone:
        messages.warning(request, f"Left out {gone} of the activities of “{template.name}”: no longer in the "
                                  f"library.")
    return [_row(item.activity, repetitions=item.repetitions, sets=item.sets, minutes=item.minutes,
                 days_per_week=item.days_per_week) for item in items]


@requires("hep.edit")
def program_builder(request: HttpRequest, pk: int) -> HttpResponse:
    patient = practice_object(request, Patient, pk)
    links = list(GuardianOf.objects.filter(patient=patient).select_related("guardian").order_by("pk"))
    guardians = {link.guardian.pk: link.guardian for link in links}
    summary = queries.summary(patient)
    op = request.POST.get("op", "") if request.method == "POST" else ""
    preview = ""
    error = ""
    if request.method == "POST":
        rows = _rows_from_post(request)
        note_form = NoteForm(request.POST)
        chosen = [int(g) for g in request.POST.getlist("guardian") if g.isdigit() and int(g) in guardians]
    else:
        record_event(actor=request.user, action="view", obj=summary.program or patient, request=request)
        start = request.GET.get("start", "")
        template = _template(request, start)
        if template is not None:
            rows = _template_rows(request, template)
            note_form = NoteForm()
        else:
            start_blank = start == "blank" or summary.version is None
            rows = [] if start_blank else [_row(item.activity, repetitions=item.repetitions, sets=item.sets,
                                                minutes=item.minutes, days_per_week=item.days_per_week)
                                           for item in summary.version.items.all()]
            note_form = NoteForm(initial={"note": "" if start_blank else summary.version.note})
        chosen = [link.guardian.pk for link in links if link.is_primary_contact] or list(guardians)[:1]
    if op.startswith("add:") and op[4:].isdigit():
        activity = actions.visible_activities(request.user.practice).filter(pk=int(op[4:])).first()
        if activity is not None:
            rows.append(_row(activity))
    elif op.startswith("remove:") and op[7:].isdigit() and int(op[7:]) < len(rows):
        rows.pop(int(op[7:]))
    ids = {int(v) for v in (_row_value(r, "activity") for r in rows) if str(v or "").isdigit()}
    activities = actions.visible_activities(request.user.practice).in_bulk(ids)
    note = note_form.data.get("note", "") if note_form.is_bound else note_form.initial.get("note", "")
    if op == "save_template":
        items = _items(rows)
        if items is None:
            error = "Check the doses marked below."
        else:
            try:
                template, created = actions.save_template(actor=request.user, name=request.POST.get(
                    "template_name", ""), items=items, request=request)
            except (ValidationError, actions.HepError) as exc:
                error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            else:
                messages.success(request, f"Saved as the practice's template “{template.name}”." if created
                                 else f"Template “{template.name}” now holds these activities.")
    if op == "send":
        items = _items(rows)
        if items is None:
            error = "Check the doses marked below."
        elif not note_form.is_valid():
            error = "; ".join(note_form.errors.get("note", []))
        else:
            try:
                version, deliveries = actions.update_and_send(
                    actor=request.user, patient=patient, items=items, note=note_form.cleaned_data["note"],
                    guardians=[guardians[g] for g in chosen], request=request)
            except (ValidationError, actions.HepError) as exc:
                error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            else:
                failed = [d for d in deliveries if d.state == "failed"]
                messages.success(request, f"Version {version.number} sent to "
                                          f"{', '.join(str(d.guardian) for d in deliveries if d not in failed)}."
                                 if len(failed) < len(deliveries) else f"Version {version.number} saved.")
                for delivery in failed:
                    messages.warning(request, f"{delivery.guardian} cannot be reached ({delivery.status_reason}); "
                                              f"the front desk has a task to reach them.")
                return redirect("hep_program", pk=patient.pk)
    language = next((guardians[g].language for g in chosen), "en")
    if op == "preview":
        preview = _preview(patient, rows, activities, note, language)
    q = request.POST.get("q", "") if request.method == "POST" else request.GET.get("q", "")
    discipline = request.POST.get("discipline", "") if request.method == "POST" else ""
    results = _search(request, q.strip()[:100], discipline) if q.strip() or discipline else []
    context = {
        "title": f"Home program · {patient}", "patient": patient, "summary": summary, "rows": [
            {"form": _renumbered(row, i), "activity": activities.get(int(_row_value(row, "activity") or 0))}
            for i, row in enumerate(rows)],
        "note_form": note_form, "links": links, "chosen": chosen, "results": results, "q": q,
        "templates": [(f"template:{t.pk}", t) for t in actions.live_templates(request.user.practice)
                      .annotate(n=Count("items"))],
        "start": request.GET.get("start", ""),
        "template_name": request.POST.get("template_name", "") if error else "",
        "discipline": discipline, "disciplines": Discipline.choices, "error": error, "preview": preview,
        "preview_language": dict(settings.LANGUAGES).get(language, language),
        "too_long": len(rows) > ONE_PAGE_ACTIVITIES, "one_page": ONE_PAGE_ACTIVITIES,
        "figures": queries.version_figures(summary.version) if summary.version else None,
        "monitoring": queries.monitoring(patient, today=patient.practice.local_now().date()),
        "photo_items": list(summary.version.items.select_related("activity", "photo")) if summary.version else [],
        "photo_form": ItemPhotoForm(auto_id=False),
    }
    return render(request, "hep/builder.html", context, status=400 if error else 200)


def _item(request: HttpRequest, pk: int, item_pk: int) -> ProgramItem:
    """An item of this child's program, in the staff member's practice (else 404)."""
    patient = practice_object(request, Patient, pk)
    return get_object_or_404(ProgramItem.objects.select_related("version__program", "photo", "activity"),
                             pk=item_pk, version__program__patient=patient)


@require_POST
@requires("hep.edit")
def item_photo_upload(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """The builder's photo of the child doing an activity: on this child's program, never the library."""
    item = _item(request, pk, item_pk)
    form = ItemPhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, f"Photo for “{item.activity.title_en}” not added: "
                                f"{' '.join(form.errors['photo_upload'])}")
        return redirect("hep_program", pk=pk)
    try:
        actions.attach_item_photo(actor=request.user, item=item, photo=form.cleaned_data["photo_upload"],
                                  request=request)
    except actions.HepError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Photo added to “{item.activity.title_en}”; only this child's family sees it.")
    return redirect("hep_program", pk=pk)


@requires("hep.view")
def item_photo(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """The child's photo on one program item, for staff (the family gets a signed link on their page)."""
    item = _item(request, pk, item_pk)
    if item.photo is None or item.photo.discarded_at:
        raise Http404("This activity has no photo of the child.")
    return file_response(request, item.photo, actor=request.user)


@requires("hep.view")
def program_versions(request: HttpRequest, pk: int) -> HttpResponse:
    patient = practice_object(request, Patient, pk)
    versions = list(ProgramVersion.objects.filter(program__patient=patient).select_related("created_by")
                    .prefetch_related("items__activity", "deliveries__guardian"))
    record_event(actor=request.user, action="view", obj=patient, request=request, detail={"page": "hep versions"})
    return render(request, "hep/versions.html", {"title": f"Home program versions · {patient}", "patient": patient,
                                                 "versions": versions})


@requires("hep.view")
def caseload(request: HttpRequest) -> HttpResponse:
    practice = request.user.practice
    visiting = request.GET.get("visiting") == "today"
    mine = not visiting and request.GET.get("mine", "1" if request.user.role == "therapist" else "") == "1"
    if visiting:  # the children coming today (Today's link), one row each
        rows = queries.lowest_first(list({v.row.patient.pk: v.row for v in queries.visits_today(
            practice, practice.local_now().date()) if v.row is not None}.values()))
    else:
        rows = queries.caseload(practice, therapist=request.user if mine else None)
    record_event(actor=request.user, action="list", object_type="hep.homeprogram", request=request)
    return render(request, "hep/caseload.html", {
        "title": "Home programs", "rows": rows, "mine": mine, "visiting": visiting,
        "threshold": float(HepPolicy.for_practice(practice).low_adherence)})


@requires("hep_policy.edit")
def policy_settings(request: HttpRequest) -> HttpResponse:
    """The practice's thresholds: follow-up of unopened programs, feedback requests, low practice."""
    policy = HepPolicy.for_practice(request.user.practice)
    form = PolicyForm(request.POST or None, instance=HepPolicy.objects.get(pk=policy.pk))
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_policy(actor=request.user, request=request,
                               values={name: form.cleaned_data[name] for name in form.fields})
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Home program settings saved.")
            return redirect("hep_settings")
    return render(request, "records/form.html", {"form": form, "title": "Home program settings",
                                                 "cancel_url": reverse("hep_caseload")},
                  status=400 if form.errors else 200)


@requires("hep.view")
def library(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    discipline = request.GET.get("discipline", "")
    activities = _search(request, q, discipline) if q or discipline else list(
        actions.visible_activities(request.user.practice).order_by("discipline", "title_en"))
    templates = actions.live_templates(request.user.practice).select_related("created_by").annotate(n=Count("items"))
    return render(request, "hep/library.html", {"title": "Activity library", "activities": activities, "q": q,
                                                "discipline": discipline, "disciplines": Discipline.choices,
                                                "templates": list(templates)})


@require_POST
@requires("hep.edit")
def template_archive(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(ProgramTemplate, pk=pk, practice=request.user.practice)
    if actions.archive_template(actor=request.user, template=template, request=request):
        messages.success(request, f"Template “{template.name}” removed; programs started from it keep their "
                                  f"activities.")
    return redirect("hep_library")


@requires("hep.edit")
def activity_create(request: HttpRequest) -> HttpResponse:
    form = ActivityForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            activity = actions.save_activity(actor=request.user, values=_values(form),
                                             picture=form.cleaned_data["picture_upload"], request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Added “{activity.title_en}” to the practice's library.")
            return redirect("hep_library")
    return render(request, "hep/activity_form.html", {"title": "New activity", "form": form},
                  status=400 if form.errors else 200)


def _values(form: ActivityForm) -> dict:
    return {name: value for name, value in form.cleaned_data.items() if name != "picture_upload"}


def _activity(request: HttpRequest, pk: int) -> Activity:
    return get_object_or_404(Activity, Q(practice=request.user.practice) | Q(practice__isnull=True), pk=pk)


@requires("hep.edit")
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk)
    if activity.is_starter:
        return render(request, "hep/activity_detail.html", {"title": activity.title_en, "activity": activity})
    form = ActivityForm(request.POST or None, request.FILES or None, instance=Activity.objects.get(pk=activity.pk))
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_activity(actor=request.user, activity=activity, values=_values(form),
                                  picture=form.cleaned_data["picture_upload"], request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("hep_library")
    return render(request, "hep/activity_form.html", {"title": activity.title_en, "form": form,
                                                      "activity": activity}, status=400 if form.errors else 200)


@requires("hep.view")
def activity_picture(request: HttpRequest, pk: int) -> HttpResponse:
    """An activity's picture, for staff (families get a signed link on their page)."""
    activity = _activity(request, pk)
    if activity.picture is None or activity.picture.discarded_at:
        raise Http404("This activity has no picture.")
    return file_response(request, activity.picture, actor=request.user)


@require_POST
@requires("hep.edit")
def activity_copy(request: HttpRequest, pk: int) -> HttpResponse:
    copy = actions.copy_activity(actor=request.user, activity=_activity(request, pk), request=request)
    messages.success(request, "Copied into the practice's library; change it as you like.")
    return redirect(copy)


@require_POST
@requires("hep.follow_up")
def delivery_resend(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery.objects.select_related("version__program", "guardian"), pk=pk,
                                 practice=request.user.practice)
    try:
        message = actions.resend_delivery(actor=request.user, delivery=delivery, request=request)
    except actions.HepError as exc:
        messages.error(request, str(exc))
    else:
        if message is None:
            messages.warning(request, f"{delivery.guardian} still cannot be reached; the front desk has a task.")
        else:
            messages.success(request, f"Sent again to {delivery.guardian} by {message.get_channel_display().lower()}.")
    return redirect("hep_program", pk=delivery.version.program.patient_id)


@require_POST
@requires("hep.follow_up")
def question_answered(request: HttpRequest, pk: int) -> HttpResponse:
    feedback = get_object_or_404(Feedback, pk=pk, practice=request.user.practice)
    if actions.answer_question(actor=request.user, feedback=feedback, request=request):
        messages.success(request, "Marked answered; its task is closed.")
    return redirect(feedback.patient)


@require_POST
@requires("hep.edit")
def review_log(request: HttpRequest, pk: int) -> HttpResponse:
    patient = practice_object(request, Patient, pk)
    raw = request.POST.get("minutes", "").strip()
    try:
        actions.log_review(actor=request.user, patient=patient, minutes=int(raw) if raw.isdigit() else 0,
                           real_time_interaction=request.POST.get("real_time") == "on", request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Logged {raw} minutes of review.")
    return redirect("hep_program", pk=patient.pk)
