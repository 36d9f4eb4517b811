"""Twilio's webhooks (signed, CSRF-exempt) and the staff's outbox page."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from pedsdesk.messaging import queries
from pedsdesk.messaging.actions import clear_channel_failure
from pedsdesk.messaging.inbound import handle_inbound, handle_status
from pedsdesk.people.models import Guardian
from pedsdesk.practices.web import practice_object, requires

logger = logging.getLogger("pedsdesk.messaging")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _signed_by_twilio(request: HttpRequest) -> bool:
    """Twilio signs the public URL it called plus the POST parameters with our auth token."""
    signature = request.META.get("HTTP_X_TWILIO_SIGNATURE", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    url = settings.PEDSDESK_BASE_URL.rstrip("/") + request.get_full_path()
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, request.POST.dict(), signature)


def _field(request: HttpRequest, *names: str, limit: int = 1600) -> str:
    """A POST field, without NUL characters (PostgreSQL text cannot hold them)."""
    for name in names:
        value = request.POST.get(name)
        if value:
            return value.replace("\x00", "")[:limit]
    return ""


def _twilio_webhook(view):
    def wrapped(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        if not _signed_by_twilio(request):
            logger.warning("refused an unsigned or mis-signed Twilio webhook at %s", request.path)
            return HttpResponseForbidden("bad signature")
        return view(request)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


@_twilio_webhook
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """A text to our number. Replies go through the outbox, so the response is empty TwiML."""
    sid, sender = _field(request, "MessageSid", "SmsSid", limit=64), _field(request, "From", limit=32)
    if not sid or not sender:
        logger.warning("inbound webhook without MessageSid or From: ignored")
        return HttpResponseBadRequest("MessageSid and From are required")
    inbound = handle_inbound(provider_id=sid, from_number=sender, to_number=_field(request, "To", limit=32),
                             body=_field(request, "Body"))
    logger.info("inbound %s: %s", inbound.provider_id, inbound.outcome)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@_twilio_webhook
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for a text we sent."""
    sid = _field(request, "MessageSid", "SmsSid", limit=64)
    status = _field(request, "MessageStatus", "SmsStatus", limit=30)
    if not sid or not status:
        logger.warning("status callback without MessageSid or MessageStatus: ignored")
        return HttpResponseBadRequest("MessageSid and MessageStatus are required")
    handle_status(provider_id=sid, status=status, error_code=_field(request, "ErrorCode", limit=30),
                  ref=request.GET.get("ref", "").replace("\x00", "")[:32])
    return HttpResponse(status=204)


@require_POST
@requires("guardians.edit")
def channel_failure_clear(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff corrected a guardian's number or address: use the channel again."""
    guardian = practice_object(request, Guardian, pk)
    channel = request.POST.get("channel", "")
    cleared = 0
    for failure in queries.open_failures(practice=request.user.practice, guardian=guardian, channel=channel):
        cleared += clear_channel_failure(actor=request.user, failure=failure, request=request)
    if cleared:
        messages.success(request, f"{guardian} can be reached again on the cleared channel.")
    else:
        messages.info(request, f"Nothing was marked failing for {guardian}.")
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/") else guardian)


@requires("messages.view")
def outbox(request: HttpRequest) -> HttpResponse:
    if request.user.practice is None:
        raise PermissionDenied
    context = queries.outbox_page(practice=request.user.practice, state=request.GET.get("state", ""),
                                  request=request)
    return render(request, "messaging/outbox.html", context)
