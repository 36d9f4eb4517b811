import zoneinfo

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pedsdesk.codes import OT, PT, SLP
from pedsdesk.fields import FieldRules
from pedsdesk.practices.memo import PracticeMemo


class Discipline(models.TextChoices):
    OT = OT, _("Occupational therapy")
    PT = PT, _("Physical therapy")
    SLP = SLP, _("Speech-language pathology")


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    OFFICE_MANAGER = "office_manager", "Office manager"
    FRONT_DESK = "front_desk", "Front desk"
    THERAPIST = "therapist", "Therapist"
    BILLING = "billing", "Billing"


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name; use one like America/Chicago.")


def validate_npi(value: str) -> None:
    """NPIs are 10 digits with a Luhn check digit over the prefix 80840."""
    if not (len(value) == 10 and value.isdigit()):
        raise ValidationError("An NPI is exactly 10 digits.")
    digits = [int(d) for d in "80840" + value]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    if total % 10:
        raise ValidationError(f"{value} is not a valid NPI: its check digit does not match.")


class Practice(FieldRules, models.Model):
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="America/Chicago", validators=[validate_time_zone])
    npi = models.CharField("NPI", max_length=10, validators=[validate_npi])
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    is_demo = models.BooleanField(default=False, help_text="Seeded demo practice: synthetic data only.")
    require_second_factor = models.BooleanField(
        default=True, help_text="Staff must use an authenticator app. Only a demo practice may turn this off."
    )
    idle_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Minutes of inactivity before staff are logged off (blank: site default)."
    )
    # When an authorization is flagged "units unused": this share of its authorized units
    # will be left with nothing booked for them, and it ends within these weeks (earlier,
    # booking can still use them, so a flag would only be noise).
    unused_units_percent = models.PositiveSmallIntegerField(
        "units unused: share left", default=20,
        help_text="Flag an authorization that will end with at least this percentage of its units unbooked.")
    unused_units_weeks = models.PositiveSmallIntegerField(
        "units unused: weeks before the end", default=4,
        help_text="Start flagging unused units this many weeks before the authorization ends.")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Held here, not only in clean(): no form, admin, API or script may save a real practice
        # as a demo one, or without the second factor.
        if errors := self._demo_rule_errors():
            raise ValidationError(errors)
        super().save(*args, **kwargs)
        zones.forget(self.pk)

    def clean(self) -> None:
        errors = self._demo_rule_errors()
        if self.unused_units_percent is not None and not 1 <= self.unused_units_percent <= 100:
            errors["unused_units_percent"] = (
                "Enter a percentage from 1 to 100 of the authorized units (20 flags an authorization that will "
                "leave a fifth of its units unbooked).")
        if self.unused_units_weeks is not None and not 1 <= self.unused_units_weeks <= 26:
            errors["unused_units_weeks"] = ("Enter 1 to 26 weeks before the end (26 is half a year; most "
                                            "authorizations run 3 to 6 months).")
        if errors:
            raise ValidationError(errors)

    def _demo_rule_errors(self) -> dict[str, str]:
        errors = {}
        if self.pk:
            stored = Practice.objects.filter(pk=self.pk).values_list("is_demo", flat=True).first()
            if stored is not None and stored != self.is_demo:
                errors["is_demo"] = ("A practice cannot become a demo practice or stop being one; only "
                                     "`pedsdesk demo` creates demo practices.")
        if not self.require_second_factor and not self.is_demo:
            errors["require_second_factor"] = "Only the demo practice may turn off the second factor."
        return errors

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_now(self):
        return timezone.now().astimezone(self.zone)


def _load_zone(practice_id: int) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(Practice.objects.values_list("time_zone", flat=True).get(pk=practice_id))


#: A practice's time zone by id, for rows that carry only ``practice_id``.
zones: PracticeMemo[zoneinfo.ZoneInfo] = PracticeMemo(_load_zone)


def zone_of(row: models.Model) -> zoneinfo.ZoneInfo:
    """The time zone of ``row``'s practice, without a query when the practice is loaded
    already or was read in the last minute."""
    practice = row._state.fields_cache.get("practice")
    return practice.zone if practice is not None else zones.get(row.practice_id)


class StaffMemberManager(UserManager):
    pass


class StaffMember(FieldRules, AbstractUser):
    """A user of one practice with one role."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="staff", null=True, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.FRONT_DESK)
    phone = models.CharField(max_length=32, blank=True)
    totp_secret = models.CharField(max_length=64, blank=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    totp_last_step = models.BigIntegerField(default=0)

    objects = StaffMemberManager()

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_absolute_url(self) -> str:
        return reverse("staff_detail", args=[self.pk])

    def has_perm(self, perm, obj=None) -> bool:
        # Owners run the Django admin of their own practice; the admin classes scope it.
        if self.is_active and self.role == Role.OWNER and self.practice_id:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label) -> bool:
        if self.is_active and self.role == Role.OWNER and self.practice_id:
            return True
        return super().has_module_perms(app_label)

    @property
    def needs_second_factor(self) -> bool:
        # A real practice always needs it, whatever its row says.
        return self.practice is None or not self.practice.is_demo or self.practice.require_second_factor


class TherapistProfile(FieldRules, models.Model):
    staff_member = models.OneToOneField(StaffMember, on_delete=models.CASCADE, related_name="therapist_profile")
    discipline = models.CharField(max_length=3, choices=Discipline.choices)
    credentials = models.CharField(max_length=60, help_text="e.g. OTR/L, DPT, CCC-SLP")
    npi = models.CharField("NPI", max_length=10, validators=[validate_npi])

    def __str__(self) -> str:
        return f"{self.staff_member}, {self.credentials}"


class ApiToken(FieldRules, models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    staff_member = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
