"""The Django admin, for owners only, showing only their own practice's records."""

from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.auth.views import redirect_to_login

from pedsdesk.audit.actions import record_event
from pedsdesk.authorizations.models import Coverage, Payer
from pedsdesk.people.models import Guardian, Patient, PlanOfCare
from pedsdesk.practices.models import Practice, Role, StaffMember, TherapistProfile
from pedsdesk.schools.models import School


def _owner_only(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_authenticated and user.role == Role.OWNER and user.practice_id)


admin.site.has_permission = _owner_only
# Owners sign in (with the second factor) through the staff login, not the admin's own.
admin.site.login = lambda request, extra_context=None: redirect_to_login(request.get_full_path())
admin.site.site_header = "pedsdesk administration"
# Groups belong to no practice, so one owner's would show in every other's admin; pedsdesk
# grants permissions by role, not by group, so the admin does not offer them at all.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class PracticeScopedAdmin(admin.ModelAdmin):
    practice_path = "practice"

    # The admin reads and changes patient data too, so it writes the same audit events.
    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "GET":
            record_event(actor=request.user, action="view", obj=obj, detail={"via": "admin"}, request=request)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record_event(actor=request.user, action="update" if change else "create", obj=obj,
                     detail={"via": "admin", "fields": sorted(form.changed_data)}, request=request)

    def delete_model(self, request, obj):
        record_event(actor=request.user, action="delete", obj=obj, detail={"via": "admin"}, request=request)
        super().delete_model(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(**{self.practice_path: request.user.practice})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related is Practice:
            kwargs["queryset"] = Practice.objects.filter(pk=request.user.practice_id)
        elif any(f.name == "practice" for f in related._meta.fields):
            kwargs["queryset"] = related.objects.filter(practice=request.user.practice)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Practice)
class PracticeAdmin(PracticeScopedAdmin):
    practice_path = "pk"

    def get_queryset(self, request):
        return Practice.objects.filter(pk=request.user.practice_id)

    def get_readonly_fields(self, request, obj=None):
        # Only `pedsdesk demo` makes demo practices, and only they may go without the second factor.
        fields = ["is_demo", "created_at"]
        if obj is None or not obj.is_demo:
            fields.append("require_second_factor")
        return fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StaffMember)
class StaffMemberAdmin(PracticeScopedAdmin):
    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    exclude = ["password", "totp_secret", "totp_last_step", "user_permissions", "groups", "is_superuser"]


@admin.register(TherapistProfile)
class TherapistProfileAdmin(PracticeScopedAdmin):
    practice_path = "staff_member__practice"


@admin.register(Patient)
class PatientAdmin(PracticeScopedAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "school"]
    search_fields = ["last_name", "first_name"]


@admin.register(Guardian)
class GuardianAdmin(PracticeScopedAdmin):
    list_display = ["last_name", "first_name", "phone", "email", "language"]
    search_fields = ["last_name", "first_name", "phone"]


@admin.register(PlanOfCare)
class PlanOfCareAdmin(PracticeScopedAdmin):
    practice_path = "patient__practice"


@admin.register(Payer)
class PayerAdmin(PracticeScopedAdmin):
    list_display = ["name", "payer_type", "unit_type", "booking_rule"]


@admin.register(Coverage)
class CoverageAdmin(PracticeScopedAdmin):
    practice_path = "patient__practice"


@admin.register(School)
class SchoolAdmin(PracticeScopedAdmin):
    list_display = ["name", "start_time", "dismissal_time"]
