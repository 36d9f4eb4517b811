import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import BadRequest
from django.shortcuts import redirect
from django.urls import reverse

from pedsdesk.fields import unstorable_problem

# Paths a signed-in staff member may reach before the second factor is done.
_SECOND_FACTOR_EXEMPT = ("/account/second-factor/", "/logout/", "/static/", "/healthz", "/api/", "/f/")


class IdleLogoffMiddleware:
    """Log staff off after a period without requests (default 15 minutes)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not request.path.startswith(("/static/", "/api/")):
            practice = user.practice
            minutes = (practice.idle_minutes if practice and practice.idle_minutes else None) or (
                settings.PEDSDESK_IDLE_MINUTES
            )
            now = time.time()
            last = request.session.get("last_activity")
            if last is not None and now - last > minutes * 60:
                logout(request)
                messages.info(request, f"You were logged off after {minutes} minutes without activity.")
                return redirect(f"{reverse('login')}?next={request.path}")
            request.session["last_activity"] = now
        return self.get_response(request)


class SecondFactorMiddleware:
    """Until the authenticator code is entered, a signed-in staff member sees only the
    second-factor page (enrolment with a QR code the first time)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and user.needs_second_factor
            and not request.session.get("second_factor_ok")
            and not request.path.startswith(_SECOND_FACTOR_EXEMPT)
        ):
            return redirect(f"{reverse('second_factor')}?next={request.path}")
        return self.get_response(request)


class PracticeTimeZoneMiddleware:
    """Show every time in the signed-in staff member's practice time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import timezone

        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.practice_id:
            timezone.activate(user.practice.zone)
        else:
            timezone.deactivate()
        return self.get_response(request)


class UnstorableInputMiddleware:
    """Refuse a page request whose query or form holds a NUL or a lone surrogate: no database
    stores them and PostgreSQL fails on them even in a search. The API's parser does the same
    for JSON, with a JSON answer, so /api/ is left to it; provider webhooks clean what they
    store themselves and must answer 200 whatever a family typed."""

    exempt = ("/api/", "/messaging/twilio/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(self.exempt):
            for data in [request.GET, *([request.POST] if request.method == "POST" else [])]:
                for key, values in data.lists():
                    for value in (key, *values):
                        if problem := unstorable_problem(value):
                            raise BadRequest(f"{key}: {problem}")
        return self.get_response(request)
