"""Calendar files: the therapist's private feed, a family's file for one visit, and the
staff page where a therapist turns their feed on or off."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from pedsdesk.audit.actions import record_event
from pedsdesk.practices.clients import client_ip
from pedsdesk.practices.models import Role
from pedsdesk.practices.permissions import has_permission
from pedsdesk.practices.throttle import Throttle
from pedsdesk.practices.web import requires
from pedsdesk.scheduling import calendar
from pedsdesk.scheduling.models import CalendarFeed

BAD_TOKEN_WINDOW_SECONDS = 15 * 60


def _throttle() -> Throttle:
    return Throttle("calendar-file", settings.PEDSDESK_FAMILY_LINK_FAILURES, BAD_TOKEN_WINDOW_SECONDS)


def _ics(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-cache"
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    # Plain text, the same for unknown, revoked and expired: a token says nothing about why.
    _throttle().fail(client_ip(request))
    return HttpResponse("This calendar link does not work. Ask the practice for a new one.\n", status=404,
                        content_type="text/plain; charset=utf-8")


@never_cache
@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    if _throttle().blocked(client_ip(request)):
        return HttpResponse("Too many attempts; try again later.\n", status=429, content_type="text/plain")
    feed = calendar.feed_for_token(token)
    if feed is None:
        return _not_found(request)
    calendar.record_feed_read(feed=feed, request=request)
    return _ics(calendar.feed_ics(feed.therapist), "visits.ics")


@never_cache
@require_safe
def visit_ics(request: HttpRequest, token: str) -> HttpResponse:
    if _throttle().blocked(client_ip(request)):
        return HttpResponse("Too many attempts; try again later.\n", status=429, content_type="text/plain")
    found = calendar.visit_for_token(token)
    if found is None:
        return _not_found(request)
    appointment, guardian = found
    record_event(actor=f"calendar file (guardian #{guardian.pk})", action="view", obj=appointment,
                 request=request, detail={"method": "CANCEL" if appointment.status in calendar.CANCELLED_STATUSES
                                          else "REQUEST"})
    return _ics(calendar.invitation_ics(appointment, guardian), "visit.ics")


def _manages_others(user) -> bool:
    # Owners and office managers turn off a departing therapist's feed.
    return has_permission(user, "staff.edit")


@requires("calendar_feeds.manage")
def calendar_feed_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    own = CalendarFeed.objects.filter(therapist=user, revoked_at__isnull=True).first()
    others = []
    if _manages_others(user):
        others = list(CalendarFeed.objects.filter(therapist__practice=user.practice, revoked_at__isnull=True)
                      .exclude(therapist=user).select_related("therapist").order_by("therapist__last_name"))
    return render(request, "scheduling/calendar_feed.html", {
        "title": "Calendar feed", "own": own, "others": others, "is_therapist": user.role == Role.THERAPIST,
        "new_url": request.session.pop("new_calendar_feed_url", ""),
    })


@require_POST
@requires("calendar_feeds.manage")
def calendar_feed_create(request: HttpRequest) -> HttpResponse:
    try:
        _, url = calendar.create_feed(actor=request.user, therapist=request.user, request=request)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("calendar_feed_settings")
    # Shown once on the next page, then only its hash remains.
    request.session["new_calendar_feed_url"] = url
    return redirect("calendar_feed_settings")


@require_POST
@requires("calendar_feeds.manage")
def calendar_feed_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    feed = get_object_or_404(CalendarFeed.objects.select_related("therapist"), pk=pk,
                             therapist__practice=request.user.practice)
    if feed.therapist_id != request.user.pk and not _manages_others(request.user):
        raise PermissionDenied("You can turn off only your own calendar feed.")
    if calendar.revoke_feed(actor=request.user, feed=feed, request=request):
        messages.success(request, f"Turned off {feed.therapist.first_name}'s calendar feed; its link no longer "
                                  f"works.")
    else:
        messages.info(request, "That calendar feed was already off.")
    return redirect("calendar_feed_settings")
