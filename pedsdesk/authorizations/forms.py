from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory

from pedsdesk.authorizations.models import BenefitBucket, Coverage, Payer, RenewalDocument
from pedsdesk.practices.forms import PracticeModelForm
from pedsdesk.practices.models import Discipline


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
