from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import ForeignKey

from pedsdesk.practices.models import Practice


def _lower_first(label: str) -> str:
    return label if label[:2].isupper() else label[:1].lower() + label[1:]  # "ICD-10 code" stays


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

    def validate_unique(self) -> None:
        """Unique checks including the records the view set on the instance (its practice, its
        patient): Django leaves fields that are not on the form out, so a duplicate name per
        practice would reach the database as an IntegrityError instead of a message."""
        preset = {
            f.name for f in self.instance._meta.concrete_fields
            if isinstance(f, ForeignKey) and f.name not in self.fields and getattr(self.instance, f.attname) is not None
        }
        exclude = self._get_validation_exclusions() - preset
        try:
            self.instance.validate_unique(exclude=exclude)
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as exc:
            for error in exc.error_dict.get(NON_FIELD_ERRORS, []) if hasattr(exc, "error_dict") else exc.error_list:
                check = (error.params or {}).get("unique_check", ())
                on_form = [name for name in check if name in self.fields]
                if on_form:
                    meta = self.instance._meta
                    labels = " and ".join(_lower_first(str(self.fields[n].label)) for n in on_form)
                    scope = " and ".join(str(meta.get_field(n).verbose_name) for n in check if n not in on_form)
                    self.add_error(on_form[-1], f"A {meta.verbose_name} with this {labels} already exists "
                                                f"for this {scope}; choose another.")
                else:
                    self.add_error(None, error)
            if hasattr(exc, "error_dict"):
                for name, errors in exc.error_dict.items():
                    if name != NON_FIELD_ERRORS:
                        self.add_error(name if name in self.fields else None, errors)
