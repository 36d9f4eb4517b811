from pedsdesk.practices.permissions import PERMISSIONS, has_permission


def staff(request):
    """``granted``: the permission names the signed-in staff member holds, for
    ``{% if "patients.edit" in granted %}`` in templates."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.practice_id:
        return {}
    return {"granted": {p for p in PERMISSIONS if has_permission(user, p)}, "practice": user.practice}
