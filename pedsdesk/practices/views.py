import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from pedsdesk.audit.actions import record_event
from pedsdesk.practices import actions
from pedsdesk.practices.clients import client_ip
from pedsdesk.practices.forms import PracticeModelForm
from pedsdesk.practices.models import ApiToken, Practice, Role, StaffMember, TherapistProfile
from pedsdesk.practices.queries import dashboard_summary
from pedsdesk.practices.settings_pages import settings_pages_for
from pedsdesk.practices.throttle import Throttle
from pedsdesk.practices.web import StaffDetailView, StaffListView, requires
from pedsdesk.workqueue.forms import SNOOZE_CHOICES

# Per account: one person's typos lock only that account. Per address, with a much higher
# limit: a colleague behind the same office network still signs in with the right password.
_account_throttle = Throttle("login", settings.PEDSDESK_LOGIN_ATTEMPTS, settings.PEDSDESK_LOGIN_LOCKOUT_MINUTES * 60)
_address_throttle = Throttle("login-ip", settings.PEDSDESK_LOGIN_IP_ATTEMPTS,
                             settings.PEDSDESK_LOGIN_LOCKOUT_MINUTES * 60)
_code_throttle = Throttle("second-factor", settings.PEDSDESK_LOGIN_ATTEMPTS,
                          settings.PEDSDESK_LOGIN_LOCKOUT_MINUTES * 60)


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = (self.data.get("username") or "").strip()[:150].casefold()
        ip = client_ip(self.request) if self.request else ""
        if _account_throttle.blocked(f"user:{username}"):
            raise forms.ValidationError(
                f"Too many failed sign-ins for this account. Wait {settings.PEDSDESK_LOGIN_LOCKOUT_MINUTES} minutes "
                "and try again, or ask your practice owner to reset your password.",
                code="throttled",
            )
        if _address_throttle.blocked(f"ip:{ip}"):
            raise forms.ValidationError(
                f"Too many failed sign-ins from this network. Wait {settings.PEDSDESK_LOGIN_LOCKOUT_MINUTES} minutes "
                "and try again.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            _account_throttle.fail(f"user:{username}")
            _address_throttle.fail(f"ip:{ip}")
            raise
        _account_throttle.reset(f"user:{username}")
        return cleaned


class LoginView(auth_views.LoginView):
    template_name = "practices/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session["second_factor_ok"] = False
        record_event(actor=form.get_user(), action="login", obj=form.get_user(), request=self.request)
        return response


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


def second_factor(request):
    """Enrol (first time, with a QR code) or enter the authenticator code."""
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    if not user.needs_second_factor or request.session.get("second_factor_ok"):
        return redirect(_safe_next(request))
    enrolling = user.totp_confirmed_at is None
    if enrolling and not user.totp_secret:
        actions.begin_second_factor_enrolment(staff_member=user)
    error = ""
    if request.method == "POST":
        key = f"user:{user.pk}"
        if _code_throttle.blocked(key):
            error = (f"Too many wrong codes. Wait {settings.PEDSDESK_LOGIN_LOCKOUT_MINUTES} minutes and try again.")
        elif actions.check_second_factor(staff_member=user, code=request.POST.get("code", ""), request=request):
            _code_throttle.reset(key)
            request.session.cycle_key()
            request.session["second_factor_ok"] = True
            if enrolling:
                messages.success(request, "Your authenticator app is set up.")
            return redirect(_safe_next(request))
        else:
            _code_throttle.fail(key)
            error = "That code is not right. Enter the 6 digits your authenticator app shows now."
    context = {"enrolling": enrolling, "error": error, "next": _safe_next(request), "title": "Second factor"}
    if enrolling:
        uri = actions.provisioning_uri(user)
        context.update(qr=segno.make(uri, error="m").svg_data_uri(scale=5), secret=user.totp_secret)
    return render(request, "practices/second_factor.html", context)


@requires("dashboard.view")
def dashboard(request):
    return render(request, "practices/dashboard.html", {
        "title": "Today", **dashboard_summary(request.user), "layout": "mine", "next_url": request.get_full_path(),
        "snooze_choices": SNOOZE_CHOICES,
    })


@requires("account.manage")
def account(request):
    new_token = ""
    if request.method == "POST":
        try:
            new_token = actions.create_api_token(staff_member=request.user, name=request.POST.get("name", ""),
                                                 request=request)
        except ValueError as exc:
            messages.error(request, str(exc))
    tokens = request.user.api_tokens.order_by("-created_at")
    return render(request, "practices/account.html", {"tokens": tokens, "new_token": new_token, "title": "Account"})


@require_POST
@requires("account.manage")
def api_token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, staff_member=request.user)
    actions.revoke_api_token(staff_member=request.user, token=token, request=request)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("account")


class StaffList(StaffListView):
    model = StaffMember
    permission = "staff.view"
    audit_reads = False
    title = "Staff"
    columns = [("Name", "__str__"), ("Role", "get_role_display"), ("Discipline", "therapist_profile.discipline"),
               ("Email", "email")]
    search_fields = ["first_name", "last_name", "username", "email"]
    create_url_name = "staff_create"
    create_permission = "staff.edit"

    def get_queryset(self):
        return super().get_queryset().select_related("therapist_profile").filter(is_active=True)


class StaffDetail(StaffDetailView):
    model = StaffMember
    permission = "staff.view"
    audit_reads = False
    template_name = "practices/staff_detail.html"


class StaffForm(PracticeModelForm):
    discipline = forms.ChoiceField(choices=[("", "—"), *TherapistProfile._meta.get_field("discipline").choices],
                                   required=False, help_text="Therapists only.")
    credentials = forms.CharField(required=False, help_text="Therapists only, e.g. OTR/L, DPT, CCC-SLP.")
    npi = forms.CharField(label="NPI", required=False, help_text="Therapists only: 10 digits.")
    password = forms.CharField(widget=forms.PasswordInput, required=False,
                               help_text="Set a first password (new staff) or a new one; leave blank to keep it.")

    class Meta:
        model = StaffMember
        fields = ["username", "first_name", "last_name", "email", "phone", "role", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        profile = getattr(self.instance, "therapist_profile", None) if self.instance.pk else None
        if profile:
            self.fields["discipline"].initial = profile.discipline
            self.fields["credentials"].initial = profile.credentials
            self.fields["npi"].initial = profile.npi

    def clean(self):
        from django.contrib.auth.password_validation import validate_password

        from pedsdesk.practices.models import validate_npi

        cleaned = super().clean()
        if cleaned.get("role") == Role.THERAPIST:
            for name in ("discipline", "credentials", "npi"):
                if not cleaned.get(name):
                    self.add_error(name, "Needed for a therapist.")
            if cleaned.get("npi"):
                try:
                    validate_npi(cleaned["npi"])
                except forms.ValidationError as exc:
                    self.add_error("npi", exc)
        if not self.instance.pk and not cleaned.get("password"):
            self.add_error("password", "Set a first password for the new staff member.")
        if cleaned.get("password"):
            try:
                validate_password(cleaned["password"], self.instance)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned

    def save(self, commit=True):
        member = super().save(commit=False)
        if self.cleaned_data.get("password"):
            member.set_password(self.cleaned_data["password"])
        member.save()
        if member.role == Role.THERAPIST:
            TherapistProfile.objects.update_or_create(
                staff_member=member,
                defaults={k: self.cleaned_data[k] for k in ("discipline", "credentials", "npi")},
            )
        return member


def _staff_form_page(request, member: StaffMember | None):
    form = StaffForm(request.POST or None, instance=member, practice=request.user.practice)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            record_event(actor=request.user, action="update" if member else "create", obj=saved,
                         detail={"fields": sorted(form.changed_data)}, request=request)
        return redirect(saved)
    title = f"Edit {member}" if member else "New staff member"
    return render(request, "records/form.html", {"form": form, "title": title,
                                                 "cancel_url": member.get_absolute_url() if member else ""})


@requires("staff.edit")
def staff_create(request):
    return _staff_form_page(request, None)


@requires("staff.edit")
def staff_edit(request, pk: int):
    return _staff_form_page(request, get_object_or_404(StaffMember, pk=pk, practice=request.user.practice))


class PracticeForm(PracticeModelForm):
    class Meta:
        model = Practice
        fields = ["name", "time_zone", "npi", "phone", "email", "street", "city", "state", "postal_code",
                  "require_second_factor", "idle_minutes",
                  "unused_units_percent", "unused_units_weeks"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.is_demo:  # a real practice always uses the second factor
            del self.fields["require_second_factor"]


@requires("practice.edit")
def practice_edit(request):
    practice = request.user.practice
    form = PracticeForm(request.POST or None, instance=practice, practice=practice)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            record_event(actor=request.user, action="update", obj=practice,
                         detail={"fields": sorted(form.changed_data)}, request=request)
        messages.success(request, "Practice settings saved.")
        return redirect("practice_edit")
    return render(request, "practices/practice_settings.html", {
        "form": form, "title": "Practice settings", "settings_pages": settings_pages_for(request.user)})
