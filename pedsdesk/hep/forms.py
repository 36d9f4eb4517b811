"""Forms of the staff pages. Their limits come from actions.DOSE_LIMITS, the rules the
actions (and so the API) check too."""

from django import forms

from pedsdesk.files.actions import IMAGE, check_upload
from pedsdesk.hep.actions import DOSE_LIMITS, NOTE_MAX
from pedsdesk.hep.models import Activity
from pedsdesk.hep.skills import SKILLS


def _dose(name: str, required: bool = False) -> forms.IntegerField:
    low, high = DOSE_LIMITS[name]
    return forms.IntegerField(min_value=low, max_value=high, required=required,
                              label=name.replace("_", " ").capitalize(),
                              widget=forms.NumberInput(attrs={"inputmode": "numeric"}))


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
    picture_upload = forms.FileField(required=False, label="Picture",
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

    def clean(self):
        data = super().clean()
        for name, (low, high) in DOSE_LIMITS.items():
            value = data.get(name)
            if value is not None and not low <= value <= high:
                self.add_error(name, f"Use {low} to {high}.")
        return data
