from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from pedsdesk.audit.actions import record_event
from pedsdesk.people.forms import (
    DiagnosisForm,
    GuardianForm,
    GuardianOfForm,
    PatientForm,
    PlanOfCareForm,
    PlanOfCareServiceFormSet,
)
from pedsdesk.people.models import Diagnosis, Guardian, GuardianOf, Patient, PlanOfCare
from pedsdesk.people.queries import matching_guardians, matching_patients, patient_chart
from pedsdesk.practices.web import (
    StaffCreateView,
    StaffDetailView,
    StaffListView,
    StaffUpdateView,
    practice_object,
    requires,
)


class PatientList(StaffListView):
    model = Patient
    permission = "patients.view"
    title = "Patients"
    columns = [("Name", "__str__"), ("Date of birth", "date_of_birth"), ("School", "school"), ("Grade", "grade")]
    create_url_name = "patient_create"
    create_permission = "patients.edit"

    def get_queryset(self):
        return super().get_queryset().select_related("school")

    def search(self, queryset, q: str):
        return matching_patients(queryset, q)


class PatientCreate(StaffCreateView):
    model = Patient
    form_class = PatientForm
    permission = "patients.edit"


class PatientUpdate(StaffUpdateView):
    model = Patient
    form_class = PatientForm
    permission = "patients.edit"


@requires("patients.view")
def patient_detail(request, pk: int):
    chart = patient_chart(request=request, pk=pk)
    return render(request, "people/patient_detail.html", chart)


@requires("patients.edit")
def diagnosis_create(request, pk: int):
    patient = practice_object(request, Patient, pk)
    form = DiagnosisForm(request.POST or None, practice=request.user.practice, patient=patient)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            diagnosis = form.save()
            record_event(actor=request.user, action="create", obj=diagnosis, request=request)
        return redirect(patient)
    return render(request, "records/form.html", {"form": form, "title": f"Add a diagnosis for {patient}",
                                                 "cancel_url": patient.get_absolute_url()})


@require_POST
@requires("patients.edit")
def diagnosis_delete(request, pk: int):
    diagnosis = get_object_or_404(Diagnosis, pk=pk, patient__practice=request.user.practice)
    with transaction.atomic():
        record_event(actor=request.user, action="delete", obj=diagnosis, detail={"code": diagnosis.code},
                     request=request)
        diagnosis.delete()
    messages.success(request, f"Removed diagnosis {diagnosis.code}.")
    return redirect(diagnosis.patient)


class GuardianList(StaffListView):
    model = Guardian
    permission = "patients.view"
    title = "Guardians"
    columns = [("Name", "__str__"), ("Phone", "phone_display"), ("Email", "email"),
               ("Language", "get_language_display"), ("Prefers", "get_preferred_channel_display")]

    def search(self, queryset, q: str):
        return matching_guardians(queryset, q)


class GuardianDetail(StaffDetailView):
    model = Guardian
    permission = "patients.view"
    template_name = "people/guardian_detail.html"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("children__patient")

    def get_context_data(self, **kwargs):
        from pedsdesk.messaging.queries import open_failures

        context = super().get_context_data(**kwargs)
        context["failures"] = open_failures(practice=self.request.user.practice, guardian=self.object, channel="")
        return context


class GuardianUpdate(StaffUpdateView):
    model = Guardian
    form_class = GuardianForm
    permission = "guardians.edit"


@requires("guardians.edit")
def guardian_create(request, pk: int):
    """A new guardian, linked to the child whose chart it was started from."""
    patient = practice_object(request, Patient, pk)
    practice = request.user.practice
    form = GuardianForm(request.POST or None, practice=practice)
    link_form = GuardianOfForm(request.POST or None, practice=practice, prefix="link")
    if request.method == "POST" and form.is_valid() and link_form.is_valid():
        with transaction.atomic():
            guardian = form.save()
            link = link_form.save(commit=False)
            link.guardian, link.patient = guardian, patient
            link.save()
            record_event(actor=request.user, action="create", obj=guardian, patient_id=patient.pk, request=request)
        messages.success(request, f"Added {guardian} as guardian of {patient.first_name}.")
        return redirect(patient)
    return render(request, "people/guardian_form.html", {
        "form": form, "link_form": link_form, "patient": patient, "title": f"New guardian for {patient}",
    })


@requires("guardians.edit")
def guardian_link_edit(request, pk: int):
    link = get_object_or_404(GuardianOf.objects.select_related("guardian", "patient"), pk=pk,
                             patient__practice=request.user.practice)
    form = GuardianOfForm(request.POST or None, instance=link, practice=request.user.practice)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            record_event(actor=request.user, action="update", obj=link, request=request)
        return redirect(link.patient)
    return render(request, "records/form.html", {"form": form, "title": f"{link.guardian} and {link.patient}",
                                                 "cancel_url": link.patient.get_absolute_url()})


class PlanOfCareDetail(StaffDetailView):
    model = PlanOfCare
    permission = "patients.view"
    practice_path = "patient__practice"
    template_name = "people/plan_of_care_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("patient", "therapist__therapist_profile").prefetch_related(
            "services"
        )


class PlanOfCareCreate(StaffCreateView):
    model = PlanOfCare
    form_class = PlanOfCareForm
    permission = "plans_of_care.edit"
    formset_class = PlanOfCareServiceFormSet
    formset_title = "Billing codes per visit"
    formset_item = "Code"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.practice_id:
            self.patient = practice_object(request, Patient, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "patient": self.patient}


class PlanOfCareUpdate(StaffUpdateView):
    model = PlanOfCare
    form_class = PlanOfCareForm
    permission = "plans_of_care.edit"
    practice_path = "patient__practice"
    formset_class = PlanOfCareServiceFormSet
    formset_title = "Billing codes per visit"
    formset_item = "Code"


PICK_LIMIT = 10


@requires("patients.view")
def patient_pick(request):
    """The booking form's child picker: active children matching ``patient_q``, as radio
    buttons named ``patient`` (an htmx fragment). Bad input gets a message, never an error."""
    return render(request, "people/_patient_choices.html", patient_choices(request, request.GET.get("patient_q", "")))


def patient_choices(request, query: str, chosen: Patient | None = None) -> dict:
    """What the picker shows for ``query``: up to 10 matches (two queries), the chosen child first."""
    query = query.strip()
    context = {"patient_q": query[:100], "matches": [], "chosen": chosen, "problem": "", "more": False}
    if query:
        try:
            found = list(matching_patients(Patient.objects.filter(practice=request.user.practice, is_active=True),
                                           query).order_by("last_name", "first_name", "pk")[:PICK_LIMIT + 1])
        except ValueError as problem:
            context["problem"] = str(problem)
        else:
            context["more"] = len(found) > PICK_LIMIT
            context["matches"] = [p for p in found[:PICK_LIMIT] if chosen is None or p.pk != chosen.pk]
            record_event(actor=request.user, action="list", object_type="people.patient",
                         detail={"search": query[:100], "via": "picker"}, request=request)
    return context
