"""The Imports page's forms: an upload, answers for unknown names, a copied mapping."""

from django import forms

from pedsdesk.interop.mapping import RECORD_LABELS, RECORD_TYPES, Mapping, MappingError, mapping_from_dict, presets
from pedsdesk.interop.models import SavedMapping
from pedsdesk.interop.reading import MAX_FILE_BYTES
from pedsdesk.practices.models import Practice


def mapping_choices(practice: Practice) -> list[tuple[str, str]]:
    saved = [(m.name, f"{m.name} (this practice's)") for m in SavedMapping.objects.filter(practice=practice)]
    shipped = [(key, mapping.name) for key, mapping in presets().items()]
    return [*saved, *shipped, ("fhir", "FHIR R4 Bundle (JSON)")]


class UploadForm(forms.Form):
    mapping = forms.ChoiceField(label="What the file is", help_text="The EMR's report, or your own copy of it.")
    file = forms.FileField(label="Export file", help_text="CSV, XLSX, or a FHIR Bundle in JSON; up to "
                                                          f"{MAX_FILE_BYTES // 1024 // 1024} MB.")

    def __init__(self, practice: Practice, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].choices = mapping_choices(practice)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(f"The file is {upload.size / 1024 / 1024:.0f} MB; imports take up to "
                                        f"{MAX_FILE_BYTES // 1024 // 1024} MB. Export a shorter date range.")
        if not upload.name.lower().endswith((".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".json")):
            raise forms.ValidationError("Upload a .csv, .xlsx or .json file.")
        return upload


def _lines(translations: dict[str, str]) -> str:
    return "\n".join(f"{word} = {value}" for word, value in translations.items())


class MappingForm(forms.Form):
    """A copy of a mapping, every part editable: headers, aliases, defaults, translations."""

    name = forms.CharField(max_length=120, label="Name of your mapping")
    encoding = forms.CharField(required=False, max_length=30, help_text="Leave empty: UTF-8, else Windows-1252.")
    date_formats = forms.CharField(required=False, help_text="Comma-separated, like %m/%d/%Y, %Y-%m-%d.")

    def __init__(self, base: Mapping, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.base = base
        self.initial.setdefault("name", f"{base.name} (ours)")
        self.initial.setdefault("encoding", base.encoding)
        self.initial.setdefault("date_formats", ", ".join(base.date_formats))
        for f in RECORD_TYPES[base.record_type]:
            column = base.columns.get(f.name)
            self.fields[f"header__{f.name}"] = forms.CharField(
                required=False, label=f"Column for the {f.label}" + (" (required)" if f.required else ""),
                initial=column.header if column else "")
            self.fields[f"aliases__{f.name}"] = forms.CharField(
                required=False, label="Other names of that column", help_text="Comma-separated.",
                initial=", ".join(column.aliases) if column else "")
            self.fields[f"default__{f.name}"] = forms.CharField(
                required=False, label="Value when the column is missing or empty",
                initial=column.default if column else "")
            if f.choices:
                self.fields[f"translate__{f.name}"] = forms.CharField(
                    required=False, widget=forms.Textarea(attrs={"rows": 4}),
                    label=f"The EMR's words for the {f.label}",
                    help_text=f"One per line: EMR word = one of {', '.join(f.choices)}.",
                    initial=_lines(base.translate.get(f.name, {})))

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if "/" in name or name == "fhir" or name in presets():
            raise forms.ValidationError("Choose a name of your own, without a slash.")
        return name

    @property
    def record_label(self) -> str:
        return RECORD_LABELS[self.base.record_type]

    def field_groups(self):
        for f in RECORD_TYPES[self.base.record_type]:
            yield f, [self[f"{part}__{f.name}"] for part in ("header", "aliases", "default", "translate")
                      if f"{part}__{f.name}" in self.fields]

    def clean(self):
        data = super().clean()
        columns, translate = {}, {}
        for f in RECORD_TYPES[self.base.record_type]:
            header = (data.get(f"header__{f.name}") or "").strip()
            default = (data.get(f"default__{f.name}") or "").strip()
            if header or default:
                columns[f.name] = {"header": header, "default": default,
                                   "aliases": [a.strip() for a in (data.get(f"aliases__{f.name}") or "").split(",")
                                               if a.strip()]}
            lines = [line for line in (data.get(f"translate__{f.name}") or "").splitlines() if line.strip()]
            for number, line in enumerate(lines, start=1):
                word, sep, value = line.rpartition("=")
                if not sep or not word.strip():
                    self.add_error(f"translate__{f.name}", f'Line {number} "{line}" needs the form: EMR word = value.')
                    continue
                translate.setdefault(f.name, {})[word.strip()] = value.strip()
        spec = {**self.base.to_dict(), "name": data.get("name", ""), "encoding": (data.get("encoding") or "").strip(),
                "date_formats": [d.strip() for d in (data.get("date_formats") or "").split(",") if d.strip()],
                "columns": columns, "translate": translate}
        try:
            self.mapping = mapping_from_dict(spec)
        except MappingError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data
