import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from pedsdesk.audit.actions import record_event
from pedsdesk.authorizations import queries
from pedsdesk.authorizations.actions import (
    RenewalError,
    decide_renewal,
    mark_pending,
    open_renewal,
    set_document,
    submit_renewal,
    update_renewal_request,
)
from pedsdesk.authorizations.chart import burn_down_chart
from pedsdesk.authorizations.forms import (
    AuthorizationForm,
    BenefitBucketFormSet,
    BoardFilterForm,
    CoverageForm,
    DecisionForm,
    PayerForm,
    RenewalRequestForm,
    ServiceLineFormSet,
    SubmitForm,
)
from pedsdesk.authorizations.models import (
    AWAITING_DECISION_STATES,
    PREPARING_STATES,
    USABLE_STATUSES,
    Authorization,
    AuthorizationStatus,
    Coverage,
    Payer,
    Renewal,
    RenewalDocument,
    RenewalItem,
    RenewalState,
)
from pedsdesk.authorizations.packet import renewal_packet
from pedsdesk.files.responses import document_response
from pedsdesk.people.models import Patient
from pedsdesk.practices.web import (
    StaffCreateView,
    StaffDetailView,
    StaffListView,
    StaffUpdateView,
    practice_object,
    requires,
)


class PayerList(StaffListView):
    model = Payer
    permission = "payers.view"
    audit_reads = False
    title = "Payers"
    columns = [("Name", "name"), ("Type", "get_payer_type_display"), ("Units", "get_unit_type_display"),
               ("Booking outside an authorization", "get_booking_rule_display")]
    search_fields = ["name", "payer_id"]
    create_url_name = "payer_create"
    create_permission = "payers.edit"


class PayerDetail(StaffDetailView):
    model = Payer
    permission = "payers.view"
    audit_reads = False
    template_name = "authorizations/payer_detail.html"

    def get_context_data(self, **kwargs):
        labels = dict(RenewalDocument.choices)
        return {
            **super().get_context_data(**kwargs),
            "documents": [labels.get(d, d) for d in self.object.renewal_documents],
            "coverage_count": self.object.coverages.count(),
        }


class PayerCreate(StaffCreateView):
    model = Payer
    form_class = PayerForm
    permission = "payers.edit"


class PayerUpdate(StaffUpdateView):
    model = Payer
    form_class = PayerForm
    permission = "payers.edit"


class _CoverageFormMixin:
    model = Coverage
    form_class = CoverageForm
    permission = "coverages.edit"
    practice_path = "patient__practice"
    formset_class = BenefitBucketFormSet
    formset_title = "Benefit limits"
    formset_item = "Limit"

    def get_success_url(self):
        return self.object.patient.get_absolute_url() + "#coverages"


class CoverageCreate(_CoverageFormMixin, StaffCreateView):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.practice_id:
            self.patient = practice_object(request, Patient, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "patient": self.patient}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": f"New coverage for {self.patient}",
                "cancel_url": self.patient.get_absolute_url()}


class CoverageUpdate(_CoverageFormMixin, StaffUpdateView):
    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "cancel_url": self.object.patient.get_absolute_url()}


# Authorizations


def _today(request) -> dt.date:
    return request.user.practice.local_now().date()


@requires("authorizations.view")
def authorization_board(request):
    """Every current authorization with its figures and flags, filtered and sorted."""
    practice = request.user.practice
    form = BoardFilterForm(request.GET or None, practice=practice)
    filters = form.filters()
    board = queries.board_query(practice, today=_today(request), **filters)
    page = Paginator(board.queryset, 50).get_page(request.GET.get("page"))
    rows = board.summaries(page.object_list)
    count = page.paginator.count
    record_event(actor=request.user, action="list", object_type="authorizations.authorization", request=request,
                 detail={"filters": {k: v for k, v in filters.items() if v}, "count": count})
    query = request.GET.copy()
    query.pop("page", None)
    unsorted = query.copy()
    unsorted.pop("sort", None)
    return render(request, "authorizations/board.html", {
        "title": "Authorizations", "form": form, "page_obj": page, "rows": rows, "count": count,
        "query": query.urlencode(), "unsorted": unsorted.urlencode(), "sort": filters["sort"],
        "flags": queries.FLAGS, "counts": board.flag_counts(),
    })


@requires("authorizations.view")
def authorization_detail(request, pk: int):
    authorization = queries.authorization_for(request.user, pk)
    today = _today(request)
    summary = queries.summary_of(authorization, today)
    projection, charges = queries.project_with_charges(authorization, today)
    chart = None
    if projection is not None:
        unit = "visits" if summary.unit_type == "visits" else "units"
        chart = burn_down_chart(authorized=summary.authorized, start=authorization.start_date,
                                end=authorization.end_date, today=today, charges=charges,
                                exhausted_on=summary.exhausted_on, unit=unit)
    record_event(actor=request.user, action="view", obj=authorization, request=request)
    return render(request, "authorizations/authorization_detail.html", {
        "title": f"Authorization #{authorization.number}", "object": authorization, "s": summary, "chart": chart,
        "chain": queries.chain_of(authorization), "today": today,
        "can_start_renewal": summary.renewal is None and authorization.status in USABLE_STATUSES
        and summary.payer.requires_authorization,
    })


class _AuthorizationFormMixin:
    model = Authorization
    form_class = AuthorizationForm
    permission = "authorizations.edit"
    practice_path = "coverage__patient__practice"
    formset_class = ServiceLineFormSet
    formset_title = "Service lines"
    formset_item = "Line"


class AuthorizationCreate(_AuthorizationFormMixin, StaffCreateView):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.practice_id:
            self.patient = practice_object(request, Patient, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "patient": self.patient}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": f"New authorization for {self.patient}",
                "cancel_url": self.patient.get_absolute_url()}


class AuthorizationUpdate(_AuthorizationFormMixin, StaffUpdateView):
    def get_queryset(self):
        return super().get_queryset().select_related("coverage__patient", "coverage__payer")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": f"Edit authorization #{self.object.number}"}


# Renewals


@requires("authorizations.view")
def renewal_list(request):
    practice = request.user.practice
    state = request.GET.get("state", "open")
    renewals = (Renewal.objects.filter(authorization__coverage__patient__practice=practice)
                .select_related("authorization__coverage__payer", "authorization__coverage__patient", "therapist"))
    if state == "open":
        renewals = renewals.filter(state__in=PREPARING_STATES + AWAITING_DECISION_STATES)
    elif state in RenewalState.values:
        renewals = renewals.filter(state=state)
    page = Paginator(renewals.order_by("due_date", "pk"), 50).get_page(request.GET.get("page"))
    record_event(actor=request.user, action="list", object_type="authorizations.renewal", request=request,
                 detail={"state": state})
    return render(request, "authorizations/renewal_list.html", {
        "title": "Renewals", "page_obj": page, "state": state, "states": RenewalState.choices,
        "today": _today(request)})


@require_POST
@requires("renewals.work")
def renewal_start(request, pk: int):
    authorization = queries.authorization_for(request.user, pk)
    try:
        renewal, created = open_renewal(authorization=authorization, actor=request.user, today=_today(request),
                                        request=request)
    except RenewalError as exc:
        messages.error(request, str(exc))
        return redirect(authorization)
    if created:
        messages.success(request, f"Renewal opened; submit it by {renewal.due_date:%b} {renewal.due_date.day}.")
    return redirect(renewal)


@requires("authorizations.view")
def renewal_detail(request, pk: int):
    renewal = queries.renewal_for(request.user, pk)
    record_event(actor=request.user, action="view", obj=renewal, request=request)
    return render(request, "authorizations/renewal_detail.html", {
        "title": str(renewal), "renewal": renewal, "a": renewal.authorization,
        "items": renewal.items.select_related("received_by"), "lines": renewal.lines.all(),
        "next": Authorization.objects.filter(previous=renewal.authorization).first(), "today": _today(request),
    })


def _renewal_form(request, renewal, form, template: str, title: str):
    return render(request, template, {"title": title, "renewal": renewal, "a": renewal.authorization,
                                      "form": form, "cancel_url": renewal.get_absolute_url()})


def _fields_to_form(form, error: ValidationError) -> None:
    for name, messages_ in error.message_dict.items():
        if name.startswith("lines."):
            name = f"line_{name.split('.')[1]}" if f"line_{name.split('.')[1]}" in form.fields else None
        form.add_error(name if name in form.fields else None, messages_)


@requires("renewals.work")
def renewal_edit(request, pk: int):
    renewal = queries.renewal_for(request.user, pk)
    initial = {"requested_start": renewal.requested_start, "requested_end": renewal.requested_end,
               "expedited": renewal.expedited}
    form = RenewalRequestForm(request.POST or None, renewal=renewal, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            update_renewal_request(actor=request.user, renewal=renewal, quantities=form.quantities(),
                                   request=request, **{k: form.cleaned_data[k] for k in initial})
            return redirect(renewal)
        except RenewalError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            _fields_to_form(form, exc)
    return _renewal_form(request, renewal, form, "records/form.html", f"What the renewal of #"
                         f"{renewal.authorization.number} asks for")


@require_POST
@requires("renewals.documents")
def renewal_document(request, pk: int):
    item = get_object_or_404(RenewalItem.objects.select_related("renewal"), pk=pk,
                             renewal__authorization__coverage__patient__practice=request.user.practice)
    received = request.POST.get("received") == "yes"
    try:
        set_document(actor=request.user, renewal=item.renewal, document=item.document, received=received,
                     note=request.POST.get("note", ""), today=_today(request), request=request)
        messages.success(request, f"{item.get_document_display()}: {'received' if received else 'not yet'}.")
    except RenewalError as exc:
        messages.error(request, str(exc))
    return redirect(item.renewal)


@requires("renewals.work")
def renewal_submit(request, pk: int):
    renewal = queries.renewal_for(request.user, pk)
    form = SubmitForm(request.POST or None, initial={"submitted_on": _today(request)})
    if request.method == "POST" and form.is_valid():
        try:
            submit_renewal(actor=request.user, renewal=renewal, today=_today(request), request=request,
                           **form.cleaned_data)
            messages.success(request, "Renewal recorded as submitted.")
            return redirect(renewal)
        except RenewalError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            _fields_to_form(form, exc)
    return _renewal_form(request, renewal, form, "authorizations/renewal_step.html",
                         f"Submit the renewal of #{renewal.authorization.number}")


@require_POST
@requires("renewals.work")
def renewal_pending(request, pk: int):
    renewal = queries.renewal_for(request.user, pk)
    try:
        mark_pending(actor=request.user, renewal=renewal, payer_reference=request.POST.get("payer_reference", ""),
                     request=request)
        messages.success(request, "Marked pending with the payer.")
    except RenewalError as exc:
        messages.error(request, str(exc))
    return redirect(renewal)


@requires("renewals.decide")
def renewal_decide(request, pk: int):
    renewal = queries.renewal_for(request.user, pk)
    form = DecisionForm(request.POST or None, renewal=renewal, initial={
        "decided_on": _today(request), "start_date": renewal.requested_start, "end_date": renewal.requested_end,
        **{f"line_{line.pk}": line.requested_quantity for line in renewal.lines.all()}})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new = decide_renewal(
                actor=request.user, renewal=renewal, approved=data["decision"] == "approved",
                decided_on=data["decided_on"], number=data["number"], start_date=data["start_date"],
                end_date=data["end_date"], quantities=form.quantities(), reason=data["reason"], note=data["note"],
                today=_today(request), request=request)
        except RenewalError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            _fields_to_form(form, exc)
        else:
            if new is None:
                messages.success(request, "Denial recorded; the office manager has a task to follow it up.")
                return redirect(renewal)
            if new.status == AuthorizationStatus.PARTIALLY_APPROVED:
                messages.warning(request, f"Recorded as a partial approval: #{new.number} has less than was asked "
                                          "for. The office manager has a task to review it.")
            else:
                messages.success(request, f"Approved: authorization #{new.number} continues #{new.previous.number}.")
            return redirect(new)
    return _renewal_form(request, renewal, form, "authorizations/renewal_step.html",
                         f"The payer's decision on #{renewal.authorization.number}")


@requires("renewals.work")
def renewal_packet_download(request, pk: int):
    renewal = queries.renewal_for(request.user, pk)
    pdf = renewal_packet(renewal, today=_today(request))
    return document_response(request, pdf, actor=request.user, obj=renewal, detail={"document": "packet"},
                             download_name=f"renewal-{renewal.authorization.number}")
