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


def picture_field(*, label: str, help_text: str, required: bool = False) -> forms.FileField:
    # accept: a phone offers its camera as well as its photos; the bytes are still checked on the server.
    return forms.FileField(required=required, label=label, help_text=help_text, widget=forms.ClearableFileInput(
        attrs={"accept": "image/jpeg,image/png,image/webp"}))


def checked_picture(upload):
    """An uploaded picture through pedsdesk/files (a real image, re-encoded, EXIF gone, size-limited)."""
    return check_upload(upload, accept={IMAGE}) if upload else None


class ActivityForm(forms.ModelForm):
    video_url = forms.URLField(required=False, assume_scheme="https", label="Video link",
                               help_text="A video link (https) the family can open.")
    picture_upload = picture_field(
        label="Picture (every family using this activity sees it)",
        help_text="A drawing or stock picture (JPEG, PNG, WebP), shown to every family whose program uses this "
                  "activity: never a photo of a child. A photo of a child doing it goes on that child's program "
                  "(the program builder's “Photos of the child”), which only their family sees.")
    skills = forms.MultipleChoiceField(choices=[(k, v[0]) for k, v in SKILLS.items()], required=False,
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Activity
        fields = ["discipline", "title_en", "title_es", "steps_en", "steps_es", "watch_en", "watch_es", "skills",
                  "repetitions", "sets", "minutes", "days_per_week", "video_url"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in ("steps_en", "steps_es", "watch_en",
                                                                         "watch_es")}

    def clean_picture_upload(self):
        return checked_picture(self.cleaned_data.get("picture_upload"))


class ItemPhotoForm(forms.Form):
    """A photo of the child doing one activity of their program (the builder)."""

    photo_upload = picture_field(
        label="Photo of the child", required=True,
        help_text="Only this child's family sees it, on their page and printout (JPEG, PNG, WebP; checked and "
                  "re-saved without its location data).")

    def clean_photo_upload(self):
        return checked_picture(self.cleaned_data.get("photo_upload"))


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
