from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from pedsdesk.codes import COMMON_DIAGNOSES, CodeError, cpt_for_discipline, normalize_icd10
from pedsdesk.fields import FieldRules
from pedsdesk.people.phones import display_phone, normalize_phone
from pedsdesk.people.search import search_text as normalised
from pedsdesk.practices.models import Discipline, Practice, StaffMember
from pedsdesk.schools.models import School


class Language(models.TextChoices):
    EN = "en", "English"
    ES = "es", "Español"


class Channel(models.TextChoices):
    SMS = "sms", "Text message"
    EMAIL = "email", "Email"


class SearchableQuerySet(models.QuerySet):
    """Rows written in bulk (the demo, imports) get their search text too."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.search_text = obj.searchable()
        return super().bulk_create(objs, *args, **kwargs)


class Searchable(FieldRules, models.Model):
    """``search_text`` (people/search.py) kept up to date on every save, from ``SEARCHED``."""

    SEARCHED: tuple[str, ...] = ()
    search_text = models.CharField(max_length=400, blank=True, editable=False,
                                   help_text="Names folded to lower case without accents, and phone digits.")
    objects = SearchableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.search_text = self.searchable()[:400]
        fields = kwargs.get("update_fields")
        if fields is not None and set(fields) & set(self.SEARCHED):
            kwargs["update_fields"] = {*fields, "search_text"}
        super().save(*args, **kwargs)

    def searchable(self) -> str:
        raise NotImplementedError


class Patient(Searchable):
    SEARCHED = ("first_name", "last_name", "preferred_name")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="patients")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    school = models.ForeignKey(School, on_delete=models.SET_NULL, null=True, blank=True, related_name="students")
    grade = models.CharField(max_length=10, blank=True, help_text="PK, K, 1 … 12; blank if not in school.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["practice", "last_name", "first_name"])]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def get_absolute_url(self) -> str:
        return reverse("patient_detail", args=[self.pk])

    def searchable(self) -> str:
        return normalised(self.first_name, self.last_name, self.preferred_name)

    @property
    def audit_patient_id(self) -> int:
        return self.pk

    def clean(self) -> None:
        # The practice's calendar, not UTC's: a US evening is already tomorrow in UTC.
        today = self.practice.local_now().date() if self.practice_id else timezone.localdate()
        if self.date_of_birth and self.date_of_birth > today:
            raise ValidationError({"date_of_birth": "Date of birth cannot be in the future."})
        if self.date_of_birth and (today - self.date_of_birth).days > 22 * 366:
            raise ValidationError({"date_of_birth": "pedsdesk is for children and young adults up to 21."})
        if self.school_id and self.practice_id and self.school.practice_id != self.practice_id:
            raise ValidationError({"school": "Choose one of this practice's schools."})
        grades = {"PK", "K", *[str(g) for g in range(1, 13)]}
        if self.grade and self.grade.upper() not in grades:
            raise ValidationError({"grade": "Grade must be PK, K or 1 to 12."})
        if self.grade:
            self.grade = self.grade.upper()

    def age_on(self, day) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class Diagnosis(FieldRules, models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="diagnoses")
    code = models.CharField("ICD-10 code", max_length=8)
    description = models.CharField(max_length=200, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "code"]
        constraints = [models.UniqueConstraint(fields=["patient", "code"], name="one_row_per_diagnosis_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.description}".strip()

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id

    def clean(self) -> None:
        try:
            self.code = normalize_icd10(self.code or "")
        except CodeError as exc:
            raise ValidationError({"code": str(exc)}) from None
        if not self.description:
            self.description = COMMON_DIAGNOSES.get(self.code, "")


# A guardian pedsdesk cannot reach: no email, and no texts either (no mobile number, opted
# out with STOP, or never agreed to texts: the outbox sends none without consent).
UNREACHABLE = Q(email="") & (Q(phone="") | Q(sms_opted_out_at__isnull=False) | Q(sms_consent_at__isnull=True))


class Guardian(Searchable):
    """An adult contact; may be guardian of several siblings."""

    SEARCHED = ("first_name", "last_name", "email", "phone")

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="guardians")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    phone = models.CharField(max_length=20, blank=True, help_text="Mobile number for texts.")
    email = models.EmailField(blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    preferred_channel = models.CharField(max_length=5, choices=Channel.choices, default=Channel.SMS)
    sms_consent_at = models.DateTimeField(null=True, blank=True, help_text="When the family agreed to texts.")
    sms_opted_out_at = models.DateTimeField(null=True, blank=True, help_text="Set by a STOP reply.")
    updated_at = models.DateTimeField(auto_now=True)  # what the hourly rules' marks see change
    patients = models.ManyToManyField(Patient, through="GuardianOf", related_name="guardians")

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def get_absolute_url(self) -> str:
        return reverse("guardian_detail", args=[self.pk])

    def searchable(self) -> str:
        return normalised(self.first_name, self.last_name, self.email.split("@")[0], phones=(self.phone,))

    @property
    def phone_display(self) -> str:
        return display_phone(self.phone)

    @property
    def can_text(self) -> bool:
        return bool(self.phone and self.sms_consent_at and not self.sms_opted_out_at)

    def clean(self) -> None:
        errors = {}
        try:
            self.phone = normalize_phone(self.phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
        if self.preferred_channel == Channel.SMS and not self.phone and "phone" not in errors:
            errors["phone"] = ["Texts are the preferred channel, so a mobile number is needed."]
        if self.preferred_channel == Channel.EMAIL and not self.email:
            errors["email"] = ["Email is the preferred channel, so an email address is needed."]
        if errors:
            raise ValidationError(errors)


class GuardianOf(FieldRules, models.Model):
    class Relationship(models.TextChoices):
        MOTHER = "mother", "Mother"
        FATHER = "father", "Father"
        GRANDPARENT = "grandparent", "Grandparent"
        FOSTER_PARENT = "foster_parent", "Foster parent"
        LEGAL_GUARDIAN = "legal_guardian", "Legal guardian"
        OTHER = "other", "Other relative or caregiver"

    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="children")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="guardian_links")
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    legal_authority = models.BooleanField(
        default=True, help_text="May consent to treatment and sign disclosure authorizations."
    )
    is_primary_contact = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["guardian", "patient"], name="one_link_per_guardian_child")]

    def __str__(self) -> str:
        return f"{self.guardian} ({self.get_relationship_display()}) of {self.patient}"

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id


class PlanOfCare(FieldRules, models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="plans_of_care")
    discipline = models.CharField(max_length=3, choices=Discipline.choices)
    therapist = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="plans_of_care")
    frequency_per_week = models.PositiveSmallIntegerField()
    minutes = models.PositiveSmallIntegerField(help_text="Length of each visit.")
    start_date = models.DateField()
    end_date = models.DateField()
    goals = models.TextField(help_text="One goal per line.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date"]

    def __str__(self) -> str:
        return f"{self.get_discipline_display()} {self.frequency_per_week}x/week, {self.minutes} min"

    def get_absolute_url(self) -> str:
        return reverse("plan_of_care_detail", args=[self.pk])

    @property
    def audit_patient_id(self) -> int:
        return self.patient_id

    @property
    def goal_list(self) -> list[str]:
        return [g.strip() for g in self.goals.splitlines() if g.strip()]

    def clean(self) -> None:
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "The plan of care cannot end before it starts."
        if self.frequency_per_week is not None and not 1 <= self.frequency_per_week <= 7:
            errors["frequency_per_week"] = "Frequency is 1 to 7 visits a week."
        if self.minutes is not None and not 15 <= self.minutes <= 180:
            errors["minutes"] = "Visits are 15 to 180 minutes long."
        if self.therapist_id:
            profile = getattr(self.therapist, "therapist_profile", None)
            if profile is None:
                errors["therapist"] = "Choose a therapist; this staff member has no therapist profile."
            elif self.discipline and profile.discipline != self.discipline:
                errors["therapist"] = f"{self.therapist} is {profile.discipline}, not {self.discipline}."
            elif self.patient_id and self.therapist.practice_id != self.patient.practice_id:
                errors["therapist"] = "Choose a therapist of this practice."
        if errors:
            raise ValidationError(errors)


class PlanOfCareService(FieldRules, models.Model):
    """A CPT code billed on each visit of the plan, with its units."""

    plan_of_care = models.ForeignKey(PlanOfCare, on_delete=models.CASCADE, related_name="services")
    cpt_code = models.CharField("CPT code", max_length=5)
    modifier = models.CharField(max_length=2, blank=True, help_text="e.g. GO, GP, GN")
    units = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan_of_care", "cpt_code", "modifier"], name="one_line_per_code")
        ]

    def __str__(self) -> str:
        return f"{self.cpt_code}{'-' + self.modifier if self.modifier else ''} × {self.units}"

    @property
    def audit_patient_id(self) -> int:
        return self.plan_of_care.patient_id

    def clean(self) -> None:
        # An inline formset attaches the (maybe unsaved) plan before validation.
        plan = self._state.fields_cache.get("plan_of_care")
        if plan is not None and plan.discipline:
            try:
                cpt_for_discipline(self.cpt_code or "", plan.discipline)
            except CodeError as exc:
                raise ValidationError({"cpt_code": str(exc)}) from None
        if self.units is not None and not 1 <= self.units <= 12:
            raise ValidationError({"units": "Units per visit are 1 to 12."})
