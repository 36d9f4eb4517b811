from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory

from pedsdesk.authorizations.models import (
    Authorization,
    BenefitBucket,
    Coverage,
    Payer,
    RenewalDocument,
    ServiceLine,
    SubmissionChannel,
)
from pedsdesk.authorizations.queries import FLAGS
from pedsdesk.fields import DateFormField, LineFormField, TextFormField
from pedsdesk.practices.forms import PracticeModelForm
from pedsdesk.practices.models import Discipline, Role, StaffMember


class PayerForm(PracticeModelForm):
    renewal_documents = forms.MultipleChoiceField(
        choices=RenewalDocument.choices, widget=forms.CheckboxSelectMultiple, required=False,
        label="Documents a renewal needs",
    )
    portal_url = forms.URLField(required=False, assume_scheme="https", label="Portal address")

    class Meta:
        model = Payer
        fields = [
            "name", "payer_type", "payer_id", "phone", "fax", "portal_url", "requires_authorization",
            "renewal_earliest_days", "renewal_recommended_days", "renewal_documents", "decision_turnaround_days",
            "expedited_turnaround_hours", "evaluation_requires_authorization", "unit_type", "rounding_rule",
            "booking_rule",
        ]


class CoverageForm(PracticeModelForm):
    class Meta:
        model = Coverage
        fields = ["payer", "priority", "member_id", "group_number", "subscriber_name", "start_date", "end_date",
                  "plan_year_start_month", "plan_year_start_day"]

    def __init__(self, *args, patient=None, **kwargs):
        super().__init__(*args, **kwargs)
        if patient is not None:
            self.instance.patient = patient


class BenefitBucketForm(forms.ModelForm):
    disciplines = forms.MultipleChoiceField(choices=Discipline.choices, widget=forms.CheckboxSelectMultiple,
                                            required=False, help_text="Tick several for a combined limit.")

    class Meta:
        model = BenefitBucket
        fields = ["name", "disciplines", "unit_type", "limit", "reset"]


class _BucketFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        seen: dict[str, str] = {}
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            for discipline in form.cleaned_data.get("disciplines", []):
                if discipline in seen:
                    raise forms.ValidationError(
                        f"{discipline} is counted by two limits ({seen[discipline]} and {form.cleaned_data['name']});"
                        " a discipline belongs to one limit."
                    )
                seen[discipline] = form.cleaned_data.get("name", "")


BenefitBucketFormSet = inlineformset_factory(
    Coverage, BenefitBucket, form=BenefitBucketForm, formset=_BucketFormSet, extra=2, can_delete=True
)


# Authorizations


class AuthorizationForm(PracticeModelForm):
    class Meta:
        model = Authorization
        fields = ["coverage", "discipline", "number", "start_date", "end_date", "status", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, patient=None, **kwargs):
        super().__init__(*args, **kwargs)
        patient = patient or (self.instance.coverage.patient if self.instance.coverage_id else None)
        # Coverage has no practice of its own: only the child's coverages are offered.
        self.fields["coverage"].queryset = Coverage.objects.filter(patient=patient).select_related("payer")
        self.fields["number"].help_text = "As the payer wrote it."

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip()


class ServiceLineForm(forms.ModelForm):
    cpt_codes = forms.CharField(label="CPT codes", help_text="Separated by commas, e.g. 97530, 97110.")

    class Meta:
        model = ServiceLine
        fields = ["cpt_codes", "modifier", "unit_type", "quantity", "requested_quantity", "per_week_cap",
                  "per_month_cap"]
        labels = {"quantity": "Authorized", "requested_quantity": "Requested (if less was approved)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and isinstance(self.instance.cpt_codes, list):
            self.initial["cpt_codes"] = ", ".join(self.instance.cpt_codes)

    def clean_cpt_codes(self) -> list[str]:
        codes = [c.strip() for c in self.cleaned_data["cpt_codes"].replace(";", ",").split(",") if c.strip()]
        if not codes:
            raise forms.ValidationError("Name at least one CPT code this line covers.")
        return list(dict.fromkeys(codes))


class _LineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        from pedsdesk.authorizations.actions import line_set_errors

        forms_kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not forms_kept and not any(f.errors for f in self.forms):
            raise forms.ValidationError("An authorization needs at least one service line (codes and quantity).")
        for i, fields in line_set_errors([f.instance for f in forms_kept]).items():
            for name, message in fields.items():
                forms_kept[i].add_error(name, message)


ServiceLineFormSet = inlineformset_factory(
    Authorization, ServiceLine, form=ServiceLineForm, formset=_LineFormSet, extra=1, can_delete=True
)


class BoardFilterForm(forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.none(), required=False, empty_label="Any payer")
    discipline = forms.ChoiceField(choices=[("", "Any discipline"), *Discipline.choices], required=False)
    therapist = forms.ModelChoiceField(queryset=StaffMember.objects.none(), required=False,
                                       empty_label="Any therapist")
    flag = forms.ChoiceField(choices=[("", "Any or none"), *FLAGS.items()], required=False)
    show = forms.ChoiceField(choices=[("current", "Current"), ("ended", "Ended"), ("all", "All")], required=False)
    sort = forms.ChoiceField(choices=[("days_left", "Fewest days left"), ("units_left", "Fewest units left"),
                                      ("-days_left", "Most days left"), ("-units_left", "Most units left"),
                                      ("patient", "Patient")], required=False, label="Sort by")

    def __init__(self, *args, practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.filter(practice=practice).order_by("name")
        self.fields["therapist"].queryset = StaffMember.objects.filter(
            practice=practice, role=Role.THERAPIST).order_by("last_name", "first_name")

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {"payer": data["payer"].pk if data.get("payer") else None,
                "discipline": data.get("discipline") or "",
                "therapist": data["therapist"].pk if data.get("therapist") else None,
                "flag": data.get("flag") or "", "show": data.get("show") or "current",
                "sort": data.get("sort") or "days_left"}


# Renewals


class RenewalRequestForm(forms.Form):
    requested_start = DateFormField(label="Requested from")
    requested_end = DateFormField(label="Requested to")
    expedited = forms.BooleanField(required=False, label="Ask for the expedited decision")

    def __init__(self, *args, renewal, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(renewal.lines.all())
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{', '.join(line.cpt_codes)}: {line.get_unit_type_display().lower()} requested",
                initial=line.requested_quantity)

    def quantities(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data[f"line_{line.pk}"] for line in self.lines}


class SubmitForm(forms.Form):
    submitted_on = DateFormField(label="Sent on")
    channel = forms.ChoiceField(choices=SubmissionChannel.choices, label="Sent by")
    payer_reference = LineFormField(max_length=60, required=False, label="Payer's reference number")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approved", "Approved (all or part)"), ("denied", "Denied")],
                                 widget=forms.RadioSelect)
    decided_on = DateFormField(label="Decision date")
    number = LineFormField(max_length=40, required=False, label="New authorization number",
                             help_text="For an approval.")
    start_date = DateFormField(required=False,
                                 label="Approved from")
    end_date = DateFormField(required=False, label="Approved to")
    reason = LineFormField(max_length=300, required=False, label="Denial reason", help_text="For a denial.")
    note = TextFormField(limit=2000, required=False)

    def __init__(self, *args, renewal, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(renewal.lines.all())
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                required=False, min_value=0,
                label=f"{', '.join(line.cpt_codes)}: {line.get_unit_type_display().lower()} approved "
                      f"(asked for {line.requested_quantity})")
        self.order_fields(["decision", "decided_on", "number", "start_date", "end_date",
                           *[f"line_{line.pk}" for line in self.lines], "reason", "note"])

    def quantities(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data[f"line_{line.pk}"] for line in self.lines
                if self.cleaned_data.get(f"line_{line.pk}") is not None}
