"""The Imports page: upload, choose or adjust the mapping, the dry-run table, apply, history."""

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from pedsdesk.audit.actions import record_event
from pedsdesk.authorizations.models import Payer
from pedsdesk.interop.actions import progress_key, start_upload
from pedsdesk.interop.forms import MappingForm, UploadForm
from pedsdesk.interop.mapping import RECORD_LABELS
from pedsdesk.interop.models import ImportFolder, ImportRun, SavedMapping
from pedsdesk.interop.queries import find_mapping, import_history
from pedsdesk.practices.models import Role, StaffMember
from pedsdesk.practices.web import requires


@requires("imports.run")
def imports(request: HttpRequest) -> HttpResponse:
    practice = request.user.practice
    form = UploadForm(practice, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        run = start_upload(practice=practice, actor=request.user, mapping_key=form.cleaned_data["mapping"],
                           dry_run=True, upload=form.cleaned_data["file"])
        return redirect(run)
    return render(request, "interop/imports.html", {
        "form": form, "runs": import_history(practice), "labels": RECORD_LABELS,
        "folders": ImportFolder.objects.filter(practice=practice),
        "saved": SavedMapping.objects.filter(practice=practice)}, status=400 if form.errors else 200)


def _run(request: HttpRequest, pk: int) -> ImportRun:
    return get_object_or_404(ImportRun.objects.select_related("started_by"), pk=pk, practice=request.user.practice)


@requires("imports.run")
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    polling = bool(request.headers.get("HX-Request"))
    if not polling:  # the progress line polls every 2 s; the page view is the read worth recording
        record_event(actor=request.user, action="read", obj=run, practice_id=run.practice_id, request=request)
    practice = request.user.practice
    context = {"run": run, "progress": cache.get(progress_key(run.pk)), "labels": RECORD_LABELS,
               "therapists": StaffMember.objects.filter(practice=practice, role=Role.THERAPIST),
               "payers": Payer.objects.filter(practice=practice)}
    template = "interop/_run_status.html" if polling else "interop/run.html"
    return render(request, template, context)


@require_POST
@requires("imports.run")
def import_run_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply the checked file (or check it again) with the answers given for unknown names."""
    run = _run(request, pk)
    if run.status == ImportRun.Status.RUNNING or not run.file_path:
        messages.error(request, "This import is still running, or its file is gone; upload the file again.")
        return redirect(run)
    resolutions: dict[str, dict[str, str]] = {}
    for kind in ("therapist", "payer"):
        for name in run.unknown.get(kind, {}):
            answer = request.POST.get(f"{kind}:{name}", "").strip()
            if answer:
                resolutions.setdefault(kind, {})[name] = answer
    merged = {k: {**run.resolutions.get(k, {}), **v} for k, v in resolutions.items()} or run.resolutions
    again = start_upload(practice=run.practice, actor=request.user, mapping_key=run.mapping_key,
                         dry_run=request.POST.get("mode") != "apply", previous=run, resolutions=merged)
    return redirect(again)


@requires("imports.run")
def mapping_edit(request: HttpRequest, name: str) -> HttpResponse:
    """Copy a preset (or adjust one of the practice's mappings) without writing code."""
    practice = request.user.practice
    try:
        base = find_mapping(practice, name)
    except LookupError:
        raise Http404("No such mapping.") from None
    saved = SavedMapping.objects.filter(practice=practice, name=name).first()
    form = MappingForm(base, request.POST or None)
    if request.method == "POST" and form.is_valid():
        mapping = form.mapping
        target = saved if saved is not None and saved.name == mapping.name else None
        if target is None and SavedMapping.objects.filter(practice=practice, name=mapping.name).exists():
            form.add_error("name", "This practice has a mapping by that name; choose another name.")
        else:
            target = target or SavedMapping(practice=practice, created_by=request.user)
            target.name, target.spec = mapping.name, mapping.to_dict()
            target.save()
            record_event(actor=request.user, action="update" if saved else "create", obj=target,
                         practice_id=practice.pk, request=request)
            messages.success(request, f"Saved the mapping “{mapping.name}”. Choose it when you upload.")
            return redirect("imports")
    return render(request, "interop/mapping.html", {"form": form, "base": base, "saved": saved},
                  status=400 if form.errors else 200)
