"""Forms of the staff pages. Their limits are the field rules (pedsdesk/fields.py) the
models, the actions and the API check too."""

from django import forms

from pedsdesk.fields import NumberFormField
from pedsdesk.files.actions import IMAGE, check_upload
from pedsdesk.hep.actions import NOTE_MAX
from pedsdesk.hep.models import Activity, HepPolicy, ProgramItem
from pedsdesk.hep.skills import SKILLS


def _dose(name: str, required: bool = False) -> forms.IntegerField:
    return NumberFormField(model=ProgramItem, field_name=name, required=required,
                           label=name.replace("_", " ").capitalize())


class ItemRowForm(forms.Form):
    """One activity of the program being built, with its dose."""

    activity = forms.IntegerField(widget=forms.HiddenInput)
    repetitions = _dose("repetitions")
    sets = _dose("sets")
    minutes = _dose("minutes")
    days_per_week = _dose("days_per_week", required=True)


class NoteForm(forms.Form):
    note = forms.CharField(required=False, max_length=NOTE_MAX, label="Note to the family",
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text="Shown on the family's page as you write it; plain text.")


class ActivityForm(forms.ModelForm):
    video_url = forms.URLField(required=False, assume_scheme="https", label="Video link",
                               help_text="A video link (https) the family can open.")
    # accept: a phone offers its camera as well as its photos; the bytes are still checked on the server.
    picture_upload = forms.FileField(required=False, label="Picture", widget=forms.ClearableFileInput(
                                         attrs={"accept": "image/jpeg,image/png,image/webp"}),
                                     help_text="A photo or drawing (JPEG, PNG, WebP); it is checked and re-saved "
                                               "without its location data.")
    skills = forms.MultipleChoiceField(choices=[(k, v[0]) for k, v in SKILLS.items()], required=False,
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Activity
        fields = ["discipline", "title_en", "title_es", "steps_en", "steps_es", "watch_en", "watch_es", "skills",
                  "repetitions", "sets", "minutes", "days_per_week", "video_url"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in ("steps_en", "steps_es", "watch_en",
                                                                         "watch_es")}

    def clean_picture_upload(self):
        upload = self.cleaned_data.get("picture_upload")
        return check_upload(upload, accept={IMAGE}) if upload else None


class PolicyForm(forms.ModelForm):
    """The practice's follow-up rules; the ranges are field rules, checked by the model."""

    class Meta:
        model = HepPolicy
        fields = ["open_within_hours", "feedback_days_before", "nudge_days", "low_adherence"]
        labels = {"open_within_hours": "Follow up an unopened program after (hours)",
                  "feedback_days_before": "Ask how practice went, days before the next visit",
                  "nudge_days": "Nudge when nothing is reported, days after delivery",
                  "low_adherence": "Low practice below (share of prescribed days, 0.05 to 1.00)"}
        help_texts = {"low_adherence": "0.50 means the treating therapist gets a task when the family reports "
                                       "fewer than half of the prescribed practice days."}
