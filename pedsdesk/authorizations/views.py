from pedsdesk.authorizations.forms import BenefitBucketFormSet, CoverageForm, PayerForm
from pedsdesk.authorizations.models import Coverage, Payer, RenewalDocument
from pedsdesk.people.models import Patient
from pedsdesk.practices.web import (
    StaffCreateView,
    StaffDetailView,
    StaffListView,
    StaffUpdateView,
    practice_object,
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
