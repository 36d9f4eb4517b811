from django import forms
from django.db.models import ForeignKey

from pedsdesk.practices.models import Practice


class PracticeModelForm(forms.ModelForm):
    """A ModelForm whose choice lists only offer the practice's own records.

    Each related model must reach its practice through ``practice``; the instance
    gets the practice before validation so the model's ``clean`` can check it.
    """

    def __init__(self, *args, practice: Practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.practice = practice
        if any(f.name == "practice" for f in self._meta.model._meta.fields) and not self.instance.practice_id:
            self.instance.practice = practice
        for name, field in self.fields.items():
            model_field = self._meta.model._meta.get_field(name) if name in self._meta.fields else None
            if isinstance(model_field, ForeignKey) and hasattr(field, "queryset"):
                related = field.queryset.model
                if any(f.name == "practice" for f in related._meta.fields):
                    field.queryset = field.queryset.filter(practice=practice)
        for field in self.fields.values():
            if isinstance(field.widget, forms.DateInput):
                field.widget.input_type = "date"
            if isinstance(field.widget, forms.TimeInput):
                field.widget.input_type = "time"
