"""Changes in school coordination: consents, sends through the disclosure gate, document
requests, summaries and meetings.

Every function is keyword-only, runs in one transaction, locks the row it changes and
re-checks its state under the lock, writes the audit event, and queues email in the
same transaction (the outbox sends only what committed). Refusals raise
``SchoolError`` (a ValidationError) whose messages say what to fix; nothing is saved.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pedsdesk.audit.actions import record_event
from pedsdesk.files.actions import PDF, Checked, check_upload, store_file
from pedsdesk.files.models import StoredFile
from pedsdesk.files.storage import private_storage
from pedsdesk.messaging.actions import Attachment, queue_message, withdraw_messages
from pedsdesk.messaging.models import Message, MessageState
from pedsdesk.people.models import Guardian, GuardianOf, Patient
from pedsdesk.practices.models import Role, StaffMember
from pedsdesk.schools import documents
from pedsdesk.schools.consent_text import TEMPLATES
from pedsdesk.schools.gate import GateResult, check_disclosure, day_label
from pedsdesk.schools.invites import invitation_ics, meeting_title
from pedsdesk.schools.models import (
    REQUEST_CATEGORY,
    AuthorizationTemplate,
    ConsentState,
    Delivery,
    Disclosure,
    DisclosureAuthorization,
    DisclosureState,
    DocumentRequest,
    FerpaConsent,
    InfoCategory,
    Meeting,
    MeetingState,
    RequestKind,
    RequestState,
    School,
    SchoolContact,
    SignedVia,
    Summary,
    SummaryState,
)

DOWNLOAD_SALT = "pedsdesk.schools.disclosure-link"
#: A download link works this long, and never past the authorization's expiry.
DOWNLOAD_DAYS = 14
ICS_TYPE = "application/ics"


class SchoolError(ValidationError):
    """A change refused, with what to fix."""


class GateRefused(SchoolError):
    """The disclosure gate said no: ``result.missing`` lists what is missing."""

    code = "consent_required"

    def __init__(self, result: GateResult, *, patient: Patient, contact: SchoolContact, category: str):
        super().__init__(result.missing)
        self.result, self.patient, self.contact, self.category = result, patient, contact, category


def _actor_label(actor: StaffMember | str) -> str:
    return actor if isinstance(actor, str) else (actor.get_full_name() or actor.username)


def _same_practice(actor: StaffMember | str, obj) -> None:
    if isinstance(actor, StaffMember) and actor.practice_id != obj.practice_id:
        raise SchoolError("That record belongs to another practice.")


def _clean(instance) -> None:
    """The model's field rules, as forms run them; SchoolError carries the per-field messages."""
    try:
        instance.full_clean(exclude=["document", "prefilled", "pdf"], validate_unique=False)
    except ValidationError as exc:
        raise SchoolError(exc.message_dict) from None


def guardian_authority(guardian: Guardian, patient: Patient) -> GuardianOf:
    """The guardian's link to the child, if it carries legal authority; else SchoolError."""
    link = GuardianOf.objects.filter(guardian=guardian, patient=patient).first()
    if link is None or not link.legal_authority:
        raise SchoolError({"signer": _("%(guardian)s is not recorded as a guardian of %(child)s with legal "
                                       "authority, so cannot sign for the child.") % {
            "guardian": guardian, "child": patient.first_name}})
    return link


# --- Authorizations to disclose --------------------------------------------------------

def create_authorization(*, actor: StaffMember, patient: Patient, categories: list[str], purpose: str,
                         recipient_school: School | None = None, recipient_district: str = "",
                         recipient_contacts: list[SchoolContact] | None = None,
                         expires_on: dt.date | None = None, expiry_event: str = "",
                         records_from: dt.date | None = None, records_to: dt.date | None = None,
                         template: str = AuthorizationTemplate.GENERAL, delivery: str = Delivery.LINK,
                         request: HttpRequest | None = None) -> DisclosureAuthorization:
    """A draft for the family to sign on their family link (or on paper)."""
    _same_practice(actor, patient)
    contacts = list(recipient_contacts or [])
    authorization = DisclosureAuthorization(
        practice_id=patient.practice_id, patient=patient, categories=list(dict.fromkeys(categories or [])),
        purpose=(purpose or "").strip(), recipient_school=recipient_school,
        recipient_district=(recipient_district or "").strip(), expires_on=expires_on,
        expiry_event=(expiry_event or "").strip(), records_from=records_from, records_to=records_to,
        template=template, delivery=delivery, created_by=actor)
    errors = {}
    try:
        _clean(authorization)
    except SchoolError as exc:
        errors = exc.message_dict
    if any(c.practice_id != patient.practice_id for c in contacts):
        errors["recipient_contacts"] = ["Choose contacts of this practice's schools."]
    if not (recipient_school or authorization.recipient_district or contacts):
        errors["recipient_school"] = ["Name who receives the records: a school, a district or school contacts."]
    if errors:
        raise SchoolError(errors)
    with transaction.atomic():
        authorization.save()
        authorization.recipient_contacts.set(contacts)
        record_event(actor=actor, action="school_authorization_created", obj=authorization, request=request,
                     detail={"categories": authorization.categories, "template": template})
    return authorization


def _initials(value: str) -> str:
    text = re.sub(r"[^A-Za-zÀ-ÿ]", "", value or "")
    return text.upper() if 2 <= len(text) <= 4 else ""


def _signature_fields(*, guardian: Guardian, patient: Patient, typed_name: str, agreed: bool, ip: str,
                      user_agent: str, now: dt.datetime) -> dict:
    link = guardian_authority(guardian, patient)
    name = " ".join((typed_name or "").split())
    errors = {}
    if len(name) < 3 or len(name) > 200:
        errors["typed_name"] = [_("Type your full name to sign.")]
    if not agreed:
        errors["agreed"] = [_("Tick the box to say you agree to sign this form.")]
    if errors:
        raise SchoolError(errors)
    return {"signer": guardian, "signer_name": name, "signer_authority": link.get_relationship_display(),
            "signed_at": now, "signed_via": SignedVia.FAMILY_LINK, "signed_ip": ip or None,
            "signed_user_agent": (user_agent or "")[:400], "signed_language": guardian.language or "en",
            "state": ConsentState.SIGNED}


def sign_authorization(*, authorization: DisclosureAuthorization, guardian: Guardian, typed_name: str,
                       agreed: bool, initials: dict[str, str] | None = None, ip: str = "", user_agent: str = "",
                       actor: str = "family link", request: HttpRequest | None = None) -> DisclosureAuthorization:
    """The guardian signs on their family link: typed name and a tick, with time, IP and
    device recorded, and the signed PDF kept. Sensitive categories of the template are
    included only where initialled."""
    now = timezone.now()
    with transaction.atomic():
        locked = DisclosureAuthorization.objects.select_for_update().get(pk=authorization.pk)
        if locked.state != ConsentState.DRAFT:
            raise SchoolError(_("This form was already signed or revoked; reload the page."))
        fields = _signature_fields(guardian=guardian, patient=locked.patient, typed_name=typed_name,
                                   agreed=agreed, ip=ip, user_agent=user_agent, now=now)
        for name, value in fields.items():
            setattr(locked, name, value)
        template = TEMPLATES[locked.template]
        given = {key: _initials((initials or {}).get(key, "")) for key, _label in template.sensitive}
        bad = [key for key, _label in template.sensitive if (initials or {}).get(key, "").strip() and not given[key]]
        if bad:
            raise SchoolError({"initials": [_("Initials are 2 to 4 letters; leave the box empty to leave that "
                                              "information out.")]})
        locked.sensitive_initials = {k: v for k, v in given.items() if v}
        _clean(locked)  # the expiry may now lie before the signature
        locked.named_emails = sorted(c.email.lower() for c in locked.recipient_contacts.all())
        locked.version += 1
        locked.document = _keep(practice=locked.practice, pdf=documents.authorization_pdf(locked),
                                purpose="school_authorization", name=f"authorization-{locked.pk}", actor=actor,
                                patient_id=locked.patient_id, request=request)
        locked.save()
        record_event(actor=actor, action="school_authorization_signed", obj=locked, request=request,
                     detail={"guardian_id": guardian.pk, "via": SignedVia.FAMILY_LINK,
                             "sensitive": sorted(locked.sensitive_initials)})
    return locked


def _keep(*, practice, pdf: bytes, purpose: str, name: str, actor, patient_id: int, request=None) -> StoredFile:
    """A generated PDF into the private files, inside the caller's transaction."""
    return store_file(practice=practice, purpose=purpose, checked=check_upload(pdf, accept={PDF}), actor=actor,
                      download_name=name, patient_id=patient_id, request=request)


def document_bytes(stored: StoredFile) -> bytes:
    with private_storage().open(stored.storage_name, "rb") as handle:
        return handle.read()


def record_paper_authorization(*, actor: StaffMember, authorization: DisclosureAuthorization, guardian: Guardian,
                               signed_on: dt.date, scan: Checked, request: HttpRequest | None = None
                               ) -> DisclosureAuthorization:
    """Staff upload the scan of a paper form the guardian signed (``scan`` checked by
    pedsdesk.files.check_upload in the form)."""
    _same_practice(actor, authorization)
    zone = authorization.practice.zone
    if signed_on > authorization.practice.local_now().date():
        raise SchoolError({"signed_on": ["The signature date cannot be in the future."]})
    with transaction.atomic():
        locked = DisclosureAuthorization.objects.select_for_update().get(pk=authorization.pk)
        if locked.state != ConsentState.DRAFT:
            raise SchoolError("This authorization was already signed or revoked; reload the page.")
        link = guardian_authority(guardian, locked.patient)
        locked.signer, locked.signer_name, locked.signer_authority = guardian, str(guardian), \
            link.get_relationship_display()
        locked.signed_at = dt.datetime.combine(signed_on, dt.time(12, 0), tzinfo=zone)
        locked.signed_via, locked.state = SignedVia.PAPER, ConsentState.SIGNED
        _clean(locked)
        locked.named_emails = sorted(c.email.lower() for c in locked.recipient_contacts.all())
        locked.document = store_file(practice=locked.practice, purpose="school_authorization_scan", checked=scan,
                                     actor=actor, download_name=f"authorization-{locked.pk}-scan",
                                     patient_id=locked.patient_id, request=request)
        locked.version += 1
        locked.save()
        record_event(actor=actor, action="school_authorization_signed", obj=locked, request=request,
                     detail={"guardian_id": guardian.pk, "via": SignedVia.PAPER, "bytes": len(scan.content)})
    return locked


def revoke_authorization(*, actor: StaffMember | str, authorization: DisclosureAuthorization, reason: str = "",
                         request: HttpRequest | None = None) -> bool:
    """The family (on their link) or staff revoke it: every send still waiting under it stops,
    and its download links stop opening. False when it was already revoked."""
    _same_practice(actor, authorization)
    now = timezone.now()
    with transaction.atomic():
        locked = DisclosureAuthorization.objects.select_for_update().get(pk=authorization.pk)
        if locked.state == ConsentState.REVOKED:
            return False
        if locked.state != ConsentState.SIGNED:
            raise SchoolError("Only a signed authorization can be revoked; delete the unsigned draft instead.")
        locked.state, locked.revoked_at = ConsentState.REVOKED, now
        locked.revoked_by, locked.revoke_reason = _actor_label(actor)[:200], (reason or "").strip()[:300]
        locked.save(update_fields=["state", "revoked_at", "revoked_by", "revoke_reason"])
        _stop_waiting_sends(locked, "the disclosure authorization was revoked")
        record_event(actor=actor, action="school_authorization_revoked", obj=locked, request=request,
                     detail={"reason": locked.revoke_reason})
    authorization.refresh_from_db()
    return True


def _stop(disclosure: Disclosure, reason: str) -> None:
    Disclosure.objects.filter(pk=disclosure.pk, state=DisclosureState.QUEUED).update(
        state=DisclosureState.STOPPED, stopped_reason=reason[:300])


def _stop_waiting_sends(authorization: DisclosureAuthorization, reason: str) -> None:
    """Emails still queued under an authorization that just ended (the caller holds its
    lock) are withdrawn. One a worker has claimed is left to the worker's last gate check,
    which takes the same lock: that check either ran before this change, and the email
    goes and is recorded as sent, or runs after it and stops the email. Withdrawing it
    here as well would record "stopped" for an email that leaves anyway."""
    for disclosure in Disclosure.objects.filter(authorization=authorization, state=DisclosureState.QUEUED):
        waiting = Message.objects.select_for_update().filter(pk=disclosure.message_id, state=MessageState.QUEUED)
        if waiting.exists() and withdraw_messages(about=disclosure, reason=reason):
            _stop(disclosure, reason)


def record_expiry_event(*, actor: StaffMember, authorization: DisclosureAuthorization, happened_on: dt.date,
                        request: HttpRequest | None = None) -> DisclosureAuthorization:
    """The event the authorization ends with has happened (e.g. the school year ended, the
    child left the school): from now on the gate refuses every send and download under it,
    and sends still waiting stop. Refused, with the reason, when it has ended already, was
    never signed, ends on a date only, or ``happened_on`` is in the future or before the
    signature."""
    _same_practice(actor, authorization)
    zone = authorization.practice.zone
    today = authorization.practice.local_now().date()
    if happened_on > today:
        raise SchoolError({"happened_on": [f"The event date {day_label(happened_on)} is in the future; record the "
                                           "event once it has happened."]})
    with transaction.atomic():
        locked = DisclosureAuthorization.objects.select_for_update().get(pk=authorization.pk)
        if locked.state == ConsentState.REVOKED:
            revoked_on = day_label(locked.revoked_at.astimezone(zone).date())
            raise SchoolError(f"This authorization was revoked on {revoked_on}; it has ended already.")
        if locked.state != ConsentState.SIGNED:
            raise SchoolError("The family has not signed this authorization yet; there is nothing to end.")
        if not locked.expiry_event:
            raise SchoolError("This authorization ends on a date, not on an event; revoke it if the family "
                              "withdrew it.")
        if locked.expiry_event_at is not None:
            raise SchoolError(f"Its end ({locked.expiry_event}) was recorded already, by "
                              f"{locked.expiry_event_by or 'staff'}: it happened on "
                              f"{day_label(locked.expiry_event_on or locked.expiry_event_at.astimezone(zone).date())}.")
        if locked.expires_on and locked.expires_on < today:
            raise SchoolError(f"This authorization expired on {day_label(locked.expires_on)}; it has ended already.")
        signed_on = locked.signed_at.astimezone(zone).date()
        if happened_on < signed_on:
            raise SchoolError({"happened_on": [f"The event date {day_label(happened_on)} is before the family signed "
                                               f"({day_label(signed_on)}); check the date."]})
        locked.expiry_event_at, locked.expiry_event_on = timezone.now(), happened_on
        locked.expiry_event_by = _actor_label(actor)[:200]
        locked.save(update_fields=["expiry_event_at", "expiry_event_on", "expiry_event_by"])
        _stop_waiting_sends(locked, f"the authorization ended ({locked.expiry_event})"[:300])
        record_event(actor=actor, action="school_authorization_expired", obj=locked, request=request,
                     detail={"event": locked.expiry_event, "happened_on": happened_on.isoformat()})
    authorization.refresh_from_db()
    return locked


# --- FERPA consent ---------------------------------------------------------------------

def create_ferpa_consent(*, actor: StaffMember, patient: Patient, school: School, records: list[str],
                         purpose: str, request: HttpRequest | None = None) -> FerpaConsent:
    _same_practice(actor, patient)
    consent = FerpaConsent(practice_id=patient.practice_id, patient=patient, school=school,
                           records=list(dict.fromkeys(records or [])), purpose=(purpose or "").strip(),
                           created_by=actor)
    _clean(consent)
    with transaction.atomic():
        consent.save()
        record_event(actor=actor, action="ferpa_consent_created", obj=consent, request=request,
                     detail={"records": consent.records, "school_id": school.pk})
    return consent


def sign_ferpa_consent(*, consent: FerpaConsent, guardian: Guardian, typed_name: str, agreed: bool, ip: str = "",
                       user_agent: str = "", actor: str = "family link",
                       request: HttpRequest | None = None) -> FerpaConsent:
    now = timezone.now()
    with transaction.atomic():
        locked = FerpaConsent.objects.select_for_update().get(pk=consent.pk)
        if locked.state != ConsentState.DRAFT:
            raise SchoolError(_("This form was already signed or revoked; reload the page."))
        for name, value in _signature_fields(guardian=guardian, patient=locked.patient, typed_name=typed_name,
                                             agreed=agreed, ip=ip, user_agent=user_agent, now=now).items():
            setattr(locked, name, value)
        locked.document = _keep(practice=locked.practice, pdf=documents.ferpa_pdf(locked), purpose="ferpa_consent",
                                name=f"ferpa-consent-{locked.pk}", actor=actor, patient_id=locked.patient_id,
                                request=request)
        locked.save()
        record_event(actor=actor, action="ferpa_consent_signed", obj=locked, request=request,
                     detail={"guardian_id": guardian.pk})
    return locked


def revoke_ferpa_consent(*, actor: StaffMember | str, consent: FerpaConsent, reason: str = "",
                         request: HttpRequest | None = None) -> bool:
    _same_practice(actor, consent)
    with transaction.atomic():
        changed = FerpaConsent.objects.filter(pk=consent.pk, state=ConsentState.SIGNED).update(
            state=ConsentState.REVOKED, revoked_at=timezone.now(), revoked_by=_actor_label(actor)[:200],
            revoke_reason=(reason or "").strip()[:300])
        if changed:
            record_event(actor=actor, action="ferpa_consent_revoked", obj=consent, request=request)
    consent.refresh_from_db()
    return bool(changed)


# --- Asking the family to sign -----------------------------------------------------------

def request_family_signature(*, actor: StaffMember, patient: Patient, contact: SchoolContact | None = None,
                             category: str = InfoCategory.PROGRESS_SUMMARIES,
                             request: HttpRequest | None = None) -> tuple[DisclosureAuthorization, list]:
    """The one click after a refusal: a draft authorization for this recipient and kind of
    record (or the unsigned one waiting already), and the family link to sign it, sent to
    every guardian with legal authority who can be reached."""
    _same_practice(actor, patient)
    from pedsdesk.portal.actions import create_family_link

    guardians = [link.guardian for link in GuardianOf.objects.filter(patient=patient, legal_authority=True)
                 .select_related("guardian").order_by("-is_primary_contact", "pk")]
    if not guardians:
        raise SchoolError(f"{patient.first_name} has no guardian with legal authority on the chart; add one first.")
    with transaction.atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        draft = DisclosureAuthorization.objects.filter(patient=patient, state=ConsentState.DRAFT).first()
        if draft is None:
            today = patient.practice.local_now().date()
            school = contact.school if contact and contact.school_id else patient.school
            draft = create_authorization(
                actor=actor, patient=patient, categories=[category, InfoCategory.MEETINGS],
                purpose="Coordinating school services (IEP/504) at the family's request",
                recipient_school=school,
                recipient_district="" if school else (contact.district if contact else ""),
                recipient_contacts=[contact] if contact else [], expires_on=today + dt.timedelta(days=365),
                request=request)
        elif category not in draft.categories:
            draft.categories = [*draft.categories, category]
            draft.save(update_fields=["categories"])
        messages = []
        for guardian in guardians:
            link, url = create_family_link(actor=actor, guardian=guardian, patient=patient, purpose="school-consent",
                                           days=30, request=request)
            url = url.rstrip("/") + "/school-consents/"
            message = queue_message(practice=patient.practice, kind="school_consent_request", recipient=guardian,
                                    context={"url": url, "child_first_name": patient.preferred_name
                                             or patient.first_name},
                                    idempotency_key=f"school-consent-request:{link.pk}", about=link)
            if message is not None:
                messages.append(message)
        record_event(actor=actor, action="school_signature_requested", obj=draft, request=request,
                     detail={"category": category, "contact_id": contact.pk if contact else None,
                             "messages": len(messages)})
    return draft, messages


# --- Sending through the gate ------------------------------------------------------------

def download_token(disclosure: Disclosure) -> str:
    return signing.TimestampSigner(salt=DOWNLOAD_SALT).sign_object(disclosure.pk)


def disclosure_for_token(token: str) -> Disclosure | None:
    """The disclosure a download link names (None for a bad or outdated signature); the
    caller checks the link's expiry and the gate."""
    try:
        pk = signing.TimestampSigner(salt=DOWNLOAD_SALT).unsign_object(
            token, max_age=dt.timedelta(days=DOWNLOAD_DAYS + 1))
    except (signing.BadSignature, ValueError):
        return None
    if type(pk) is not int:
        return None
    return (Disclosure.objects.select_related("patient__practice", "contact__school", "authorization", "summary",
                                              "practice").filter(pk=pk).first())


def _link_expiry(authorization: DisclosureAuthorization, now: dt.datetime) -> dt.datetime:
    ends = now + dt.timedelta(days=DOWNLOAD_DAYS)
    if authorization.expires_on:
        zone = authorization.practice.zone
        ends = min(ends, dt.datetime.combine(authorization.expires_on + dt.timedelta(days=1), dt.time(0),
                                             tzinfo=zone))
    return ends


def gate_or_refuse(*, patient: Patient, contact: SchoolContact, category: str, address: str = "",
                   attachment: bool = False) -> DisclosureAuthorization:
    result = check_disclosure(patient=patient, contact=contact, category=category, address=address,
                              attachment=attachment)
    if not result.ok:
        raise GateRefused(result, patient=patient, contact=contact, category=category)
    return result.authorization


def send_summary(*, actor: StaffMember, summary: Summary, contact: SchoolContact, address: str = "",
                 attach: bool = False, request: HttpRequest | None = None) -> Disclosure:
    """Send the signed summary to a school contact as a signed, expiring link (attached too
    only if the family opted in), through the gate. Raises GateRefused saying what is
    missing; nothing is queued then."""
    _same_practice(actor, summary)
    if contact.practice_id != summary.practice_id:
        raise SchoolError({"contact": ["Choose a contact of this practice's schools."]})
    with transaction.atomic():
        locked = (Summary.objects.select_for_update(of=("self",)).select_related("patient__practice", "request")
                  .get(pk=summary.pk))
        if locked.state != SummaryState.SIGNED or not locked.pdf_id:
            raise SchoolError("Only a signed summary can be sent; the therapist signs it first.")
        category = REQUEST_CATEGORY.get(locked.request.kind if locked.request else RequestKind.PROGRESS_SUMMARY,
                                        InfoCategory.PROGRESS_SUMMARIES)
        authorization = gate_or_refuse(patient=locked.patient, contact=contact, category=category,
                                       address=address, attachment=attach)
        now = timezone.now()
        disclosure = Disclosure.objects.create(
            practice_id=locked.practice_id, patient=locked.patient, authorization=authorization, contact=contact,
            to_address=contact.email, category=category, description=f"Clinical summary #{locked.pk} (PDF)",
            purpose=authorization.purpose, summary=locked, sent_by=_actor_label(actor)[:200], created_at=now,
            link_expires_at=_link_expiry(authorization, now))
        url = settings.PEDSDESK_BASE_URL.rstrip("/") + reverse("school_download", args=[download_token(disclosure)])
        files = ([Attachment(f"summary-{locked.pk}.pdf", "application/pdf", document_bytes(locked.pdf))]
                 if attach else [])
        disclosure.message = queue_message(
            practice=locked.practice, kind="school_document", recipient=contact, about=disclosure,
            context={"url": url, "practice": locked.practice.name, "expires": disclosure.link_expires_at,
                     "child": f"{locked.patient.first_name} {locked.patient.last_name[:1]}."},
            idempotency_key=f"school-document:{disclosure.pk}", attachments=files)
        if disclosure.message is None:
            raise SchoolError(f"{contact.email} cannot get email now (marked failing); fix the address first.")
        disclosure.save(update_fields=["message"])
        if locked.request_id:
            _advance_request(locked.request, RequestState.SENT, actor=actor, request=request)
        record_event(actor=actor, action="school_disclosure_queued", obj=disclosure, request=request,
                     detail={"contact_id": contact.pk, "category": category, "authorization_id": authorization.pk,
                             "attached": attach})
    return disclosure


def open_download(*, disclosure: Disclosure, request: HttpRequest | None = None) -> GateResult:
    """The contact opened the link: the gate again, under the authorization it was sent
    under; counted and audited either way."""
    now = timezone.now()
    result = check_disclosure(patient=disclosure.patient, contact=disclosure.contact, category=disclosure.category,
                              address=disclosure.to_address, authorization=disclosure.authorization, now=now)
    if result.ok and disclosure.link_expires_at and disclosure.link_expires_at <= now:
        result = GateResult(None, ["This link has expired; ask the practice to send the document again."])
    if result.ok and disclosure.state == DisclosureState.STOPPED:
        result = GateResult(None, ["This send was stopped before it went out."])
    with transaction.atomic():
        if result.ok:
            locked = Disclosure.objects.select_for_update().get(pk=disclosure.pk)
            locked.open_count += 1
            locked.first_opened_at = locked.first_opened_at or now
            locked.last_opened_at = now
            locked.save(update_fields=["open_count", "first_opened_at", "last_opened_at"])
        record_event(actor=f"school contact #{disclosure.contact_id}", action=(
            "school_document_opened" if result.ok else "school_document_refused"), obj=disclosure, request=request,
            detail={} if result.ok else {"reason": result.reason[:300]})
    return result


def pre_send_check(message) -> str:
    """Registered with the outbox: every email to someone outside the practice must be
    about a disclosure that still passes the gate, at this address, right now."""
    from pedsdesk.messaging.kinds import kind_of

    try:
        external = kind_of(message.kind).for_external
    except ValueError:
        return ""
    if not external:
        return ""
    if message.about_type_id != ContentType.objects.get_for_model(Disclosure).pk:
        return "an email to an outside contact must be a recorded disclosure"
    authorization_id = Disclosure.objects.filter(pk=message.about_id).values_list("authorization_id", flat=True).first()
    if authorization_id is None:
        return "its disclosure record is gone"
    with transaction.atomic():
        # Under the authorization's lock, as revoking and ending take it: a change that
        # committed first is seen here; one that comes later waits and leaves this email,
        # which passed, to go (it is then recorded as sent).
        DisclosureAuthorization.objects.select_for_update().filter(pk=authorization_id).exists()
        disclosure = (Disclosure.objects.select_related("patient__practice", "contact", "authorization")
                      .get(pk=message.about_id))
        if disclosure.state == DisclosureState.STOPPED:
            return disclosure.stopped_reason or "the disclosure was stopped"
        result = check_disclosure(patient=disclosure.patient, contact=disclosure.contact,
                                  category=disclosure.category, address=message.to_address,
                                  authorization=disclosure.authorization,
                                  # The invitation's own .ics is the message, not a document attached to it.
                                  attachment=message.attachments.filter(alternative=False)
                                  .exclude(content_type=ICS_TYPE).exists())
        if result.ok:
            return ""
        _stop(disclosure, result.reason)
        record_event(actor="messaging worker", action="school_disclosure_stopped", obj=disclosure,
                     detail={"reason": result.reason[:300], "message_id": message.pk})
    return result.reason


# --- Document requests -------------------------------------------------------------------

_FORWARD = {RequestState.OPEN: 0, RequestState.DRAFTED: 1, RequestState.SIGNED: 2, RequestState.SENT: 3,
            RequestState.CLOSED: 4}


def create_request(*, actor: StaffMember, patient: Patient, requester: str, kind: str, due_on: dt.date,
                   assignee: StaffMember, requested_by: str = "", contact: SchoolContact | None = None,
                   note: str = "", request: HttpRequest | None = None) -> DocumentRequest:
    _same_practice(actor, patient)
    errors = {}
    if assignee.practice_id != patient.practice_id or not assignee.is_active:
        errors["assignee"] = ["Choose an active staff member of this practice."]
    if contact is not None and contact.practice_id != patient.practice_id:
        errors["contact"] = ["Choose a contact of this practice's schools."]
    doc = DocumentRequest(practice_id=patient.practice_id, patient=patient, requester=requester, kind=kind,
                          due_on=due_on, assignee=assignee, requested_by=(requested_by or "").strip()[:200],
                          contact=contact, note=(note or "").strip()[:300])
    try:
        doc.full_clean(exclude=["practice", "patient", "assignee", "contact"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise SchoolError(errors)
    with transaction.atomic():
        doc.save()
        record_event(actor=actor, action="school_request_created", obj=doc, request=request,
                     detail={"kind": kind, "requester": requester, "due_on": str(due_on)})
    return doc


def _advance_request(doc: DocumentRequest, state: str, *, actor: StaffMember | str, request=None) -> bool:
    """Move forward (open → drafted → signed → sent → closed); never back. False if it is there already."""
    locked = DocumentRequest.objects.select_for_update().get(pk=doc.pk)
    if _FORWARD[state] <= _FORWARD[locked.state]:
        return False
    now = timezone.now()
    locked.state, locked.updated_at = state, now
    if state == RequestState.CLOSED:
        locked.closed_at = now
    locked.save(update_fields=["state", "updated_at", "closed_at"])
    record_event(actor=actor, action="school_request_state", obj=locked, request=request,
                 detail={"state": state})
    doc.state = state
    return True


def close_request(*, actor: StaffMember, doc: DocumentRequest, request: HttpRequest | None = None) -> bool:
    _same_practice(actor, doc)
    with transaction.atomic():
        return _advance_request(doc, RequestState.CLOSED, actor=actor, request=request)


# --- Summaries -----------------------------------------------------------------------------

def create_summary(*, actor: StaffMember, patient: Patient, therapist: StaffMember, period_from: dt.date,
                   period_to: dt.date, doc: DocumentRequest | None = None, meeting: Meeting | None = None,
                   request: HttpRequest | None = None) -> Summary:
    """A draft pre-filled from the records (demographics, diagnoses, goals, attendance,
    home-program adherence) for the therapist to complete."""
    from pedsdesk.schools.queries import prefill

    _same_practice(actor, patient)
    errors = {}
    if therapist.practice_id != patient.practice_id or therapist.role != Role.THERAPIST:
        errors["therapist"] = ["Choose a therapist of this practice."]
    if period_to < period_from:
        errors["period_to"] = ["The period must end after it starts."]
    if period_to > patient.practice.local_now().date():
        errors["period_to"] = ["The period cannot end in the future."]
    if errors:
        raise SchoolError(errors)
    with transaction.atomic():
        summary = Summary.objects.create(
            practice_id=patient.practice_id, patient=patient, therapist=therapist, request=doc, meeting=meeting,
            period_from=period_from, period_to=period_to, prefilled=prefill(patient, period_from, period_to))
        record_event(actor=actor, action="school_summary_created", obj=summary, request=request)
    return summary


def save_summary(*, actor: StaffMember, summary: Summary, progress: str, recommendations: str,
                 request: HttpRequest | None = None) -> Summary:
    """The therapist's own sections, saved as a draft."""
    if actor.pk != summary.therapist_id:
        raise SchoolError("Only the summary's therapist writes its clinical sections.")
    with transaction.atomic():
        locked = Summary.objects.select_for_update().get(pk=summary.pk)
        if locked.state != SummaryState.DRAFT:
            raise SchoolError("This summary is signed; it can no longer change.")
        locked.progress, locked.recommendations = progress.strip()[:20000], recommendations.strip()[:20000]
        locked.updated_at = timezone.now()
        locked.save(update_fields=["progress", "recommendations", "updated_at"])
        if locked.request_id:
            _advance_request(locked.request, RequestState.DRAFTED, actor=actor, request=request)
        record_event(actor=actor, action="school_summary_saved", obj=locked, request=request)
    return locked


def sign_summary(*, actor: StaffMember, summary: Summary, typed_name: str, request: HttpRequest | None = None
                 ) -> Summary:
    """The therapist signs: the PDF is made now and is what gets sent."""
    if actor.pk != summary.therapist_id:
        raise SchoolError("Only the summary's therapist can sign it.")
    name = " ".join((typed_name or "").split())
    with transaction.atomic():
        locked = Summary.objects.select_for_update(of=("self",)).select_related("patient", "practice", "therapist").get(
            pk=summary.pk)
        if locked.state != SummaryState.DRAFT:
            raise SchoolError("This summary is signed already.")
        errors = {}
        if not locked.progress.strip():
            errors["progress"] = ["Write the progress section before signing."]
        if not locked.recommendations.strip():
            errors["recommendations"] = ["Write the recommendations before signing."]
        if len(name) < 3:
            errors["typed_name"] = ["Type your name to sign."]
        if errors:
            raise SchoolError(errors)
        locked.state, locked.signed_name, locked.signed_at = SummaryState.SIGNED, name[:200], timezone.now()
        locked.pdf = _keep(practice=locked.practice, pdf=documents.summary_pdf(locked), purpose="school_summary",
                           name=f"summary-{locked.pk}", actor=actor, patient_id=locked.patient_id, request=request)
        locked.save(update_fields=["state", "signed_name", "signed_at", "pdf"])
        if locked.request_id:
            _advance_request(locked.request, RequestState.SIGNED, actor=actor, request=request)
        record_event(actor=actor, action="school_summary_signed", obj=locked, request=request)
    return locked


# --- Meetings --------------------------------------------------------------------------------

def _meeting_problems(*, practice, therapist: StaffMember, start_at: dt.datetime, end_at: dt.datetime,
                      exclude: Meeting | None = None) -> dict:
    errors = {}
    if end_at <= start_at:
        errors["end_at"] = ["The meeting must end after it starts."]
    elif end_at - start_at > dt.timedelta(hours=4):
        errors["end_at"] = ["A meeting lasts at most 4 hours."]
    if start_at <= timezone.now():
        errors["start_at"] = ["That time has passed; a meeting is scheduled in the future."]
    if therapist.practice_id != practice.pk or therapist.role != Role.THERAPIST:
        errors["therapist"] = ["Choose a therapist of this practice."]
    overlapping = Meeting.objects.filter(therapist=therapist, state=MeetingState.SCHEDULED, start_at__lt=end_at,
                                         end_at__gt=start_at)
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude.pk)
    clash = overlapping.select_related("practice").first()
    if clash and "start_at" not in errors:
        errors["start_at"] = [f"{therapist} already has a school meeting then ({clash})."]
    return errors


def _clear_the_time(*, actor: StaffMember, meeting: Meeting, request=None) -> list:
    """Sessions in the meeting's time are cancelled by the clinic, through the schedule's
    cancellation path: each becomes an opening, and the child is owed a makeup."""
    from pedsdesk.scheduling.actions import cancel_appointment
    from pedsdesk.scheduling.models import Appointment, AppointmentKind, AppointmentStatus

    clashes = (Appointment.objects.filter(therapist=meeting.therapist, start_at__lt=meeting.end_at,
                                          end_at__gt=meeting.start_at,
                                          status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED])
               .exclude(kind=AppointmentKind.MEETING).order_by("start_at"))
    cancelled = []
    for visit in clashes:
        cancelled.append(cancel_appointment(actor=actor, appointment=visit, by="clinic",
                                            reason="Therapist at a school meeting", request=request))
    return cancelled


def _book_block(*, actor: StaffMember, meeting: Meeting, request=None):
    from pedsdesk.scheduling.actions import BookingRefused, book_appointment
    from pedsdesk.scheduling.models import AppointmentKind

    try:
        return book_appointment(actor=actor, practice=meeting.practice, therapist=meeting.therapist, patient=None,
                            start_at=meeting.start_at, minutes=int((meeting.end_at - meeting.start_at).total_seconds()
                                                                   // 60),
                            kind=AppointmentKind.MEETING, title="School meeting",
                            override_reason="school meeting", request=request)
    except BookingRefused as exc:
        # Rolls back the whole meeting, the cancelled sessions included.
        raise SchoolError({"start_at": [str(exc)]}) from None


def schedule_meeting(*, actor: StaffMember, patient: Patient, therapist: StaffMember, start_at: dt.datetime,
                     end_at: dt.datetime, kind: str = "iep", location: str = "", video_link: str = "",
                     attendee_roles: str = "", invitees: list[SchoolContact] | None = None,
                     summary_due_days: int = 5, request: HttpRequest | None = None) -> Meeting:
    """Place the therapist at a school meeting: conflicting sessions are cancelled by the
    clinic (openings, makeups), a meeting block holds the time, and invitations go to the
    therapist and to the school contacts the family authorized."""
    _same_practice(actor, patient)
    practice = patient.practice
    school = patient.school
    invitees = list(invitees or [])
    errors = _meeting_problems(practice=practice, therapist=therapist, start_at=start_at, end_at=end_at)
    if school is None:
        errors["patient"] = [f"{patient.first_name} has no school on the chart; add it first."]
    if not (location or "").strip() and not (video_link or "").strip():
        errors["location"] = ["Give the place or a video link."]
    if not 0 <= summary_due_days <= 60:
        errors["summary_due_days"] = ["The summary is due 0 to 60 days before the meeting."]
    if any(c.practice_id != practice.pk for c in invitees):
        errors["invitees"] = ["Choose contacts of this practice's schools."]
    refusals = [check_disclosure(patient=patient, contact=c, category=InfoCategory.MEETINGS) for c in invitees]
    refused = [f"{c.name}: {r.reason}" for c, r in zip(invitees, refusals, strict=True) if not r.ok]
    if refused:
        errors["invitees"] = ["Not authorized by the family: " + " ".join(refused)]
    if errors:
        raise SchoolError(errors)
    with transaction.atomic():
        StaffMember.objects.select_for_update().filter(pk=therapist.pk).first()
        # Re-checked under the therapist's lock: two meetings booked at once cannot overlap.
        errors = _meeting_problems(practice=practice, therapist=therapist, start_at=start_at, end_at=end_at)
        if errors:
            raise SchoolError(errors)
        meeting = Meeting.objects.create(
            practice=practice, patient=patient, school=school, therapist=therapist, kind=kind, start_at=start_at,
            end_at=end_at, location=location.strip()[:200], video_link=video_link.strip(),
            attendee_roles=attendee_roles.strip()[:300], summary_due_days=summary_due_days)
        meeting.invitees.set(invitees)
        cancelled = _clear_the_time(actor=actor, meeting=meeting, request=request)
        meeting.block = _book_block(actor=actor, meeting=meeting, request=request)
        meeting.save(update_fields=["block"])
        record_event(actor=actor, action="school_meeting_scheduled", obj=meeting, request=request,
                     detail={"cancelled_visits": [v.pk for v in cancelled], "invitees": [c.pk for c in invitees]})
        _send_invitations(actor=actor, meeting=meeting)
    return meeting


def reschedule_meeting(*, actor: StaffMember, meeting: Meeting, start_at: dt.datetime, end_at: dt.datetime,
                       location: str | None = None, request: HttpRequest | None = None) -> Meeting:
    """A new time: same UID, SEQUENCE + 1, the block moves and new clashes are cancelled."""
    from pedsdesk.scheduling.actions import cancel_appointment

    _same_practice(actor, meeting)
    with transaction.atomic():
        StaffMember.objects.select_for_update().filter(pk=meeting.therapist_id).first()
        locked = Meeting.objects.select_for_update(of=("self",)).select_related("practice", "patient", "school",
                                                                    "therapist").get(pk=meeting.pk)
        if locked.state != MeetingState.SCHEDULED:
            raise SchoolError("This meeting was cancelled; schedule a new one.")
        errors = _meeting_problems(practice=locked.practice, therapist=locked.therapist, start_at=start_at,
                                   end_at=end_at, exclude=locked)
        if errors:
            raise SchoolError(errors)
        if locked.block_id:
            cancel_appointment(actor=actor, appointment=locked.block, by="clinic", reason="School meeting moved",
                               request=request)
        locked.start_at, locked.end_at = start_at, end_at
        if location is not None:
            locked.location = location.strip()[:200]
        locked.sequence += 1
        locked.updated_at = timezone.now()
        locked.save()
        _clear_the_time(actor=actor, meeting=locked, request=request)
        locked.block = _book_block(actor=actor, meeting=locked, request=request)
        locked.save(update_fields=["block"])
        record_event(actor=actor, action="school_meeting_moved", obj=locked, request=request,
                     detail={"sequence": locked.sequence})
        _send_invitations(actor=actor, meeting=locked)
    return locked


def cancel_meeting(*, actor: StaffMember, meeting: Meeting, request: HttpRequest | None = None) -> Meeting:
    """METHOD:CANCEL, STATUS:CANCELLED, same UID, SEQUENCE + 1; the block is freed."""
    from pedsdesk.scheduling.actions import cancel_appointment

    _same_practice(actor, meeting)
    with transaction.atomic():
        locked = Meeting.objects.select_for_update(of=("self",)).select_related("practice", "patient", "school",
                                                                    "therapist").get(pk=meeting.pk)
        if locked.state != MeetingState.SCHEDULED:
            raise SchoolError("This meeting is already cancelled.")
        locked.state, locked.sequence, locked.updated_at = MeetingState.CANCELLED, locked.sequence + 1, timezone.now()
        locked.save()
        if locked.block_id and locked.block.status in ("booked", "confirmed"):
            cancel_appointment(actor=actor, appointment=locked.block, by="clinic", reason="School meeting cancelled",
                               request=request)
        record_event(actor=actor, action="school_meeting_cancelled", obj=locked, request=request)
        _send_invitations(actor=actor, meeting=locked)
    return locked


def _send_invitations(*, actor: StaffMember, meeting: Meeting) -> None:
    """One email per person at this SEQUENCE: the therapist always; each school contact
    only through the gate (a contact no longer authorized gets nothing, even a cancel)."""
    therapist = meeting.therapist
    people = [(therapist.get_full_name() or therapist.username, therapist.email)]
    allowed = []
    for contact in meeting.invitees.all():
        result = check_disclosure(patient=meeting.patient, contact=contact, category=InfoCategory.MEETINGS)
        if result.ok:
            allowed.append((contact, result.authorization))
            people.append((contact.name, contact.email))
    ics = invitation_ics(meeting, [p for p in people if p[1]])
    method = "CANCEL" if meeting.state == MeetingState.CANCELLED else "REQUEST"
    parts = [Attachment("invite.ics", f"text/calendar; method={method}; charset=utf-8", ics, alternative=True),
             Attachment("invite.ics", ICS_TYPE, ics)]
    context = {"meeting_id": meeting.pk, "method": method, "title": meeting_title(meeting),
               "school": meeting.school.name, "start_at": meeting.start_at, "end_at": meeting.end_at,
               "location": meeting.location, "video_link": meeting.video_link}
    key = f"school-meeting:{meeting.pk}:{meeting.sequence}"
    if therapist.email:
        queue_message(practice=meeting.practice, kind="school_meeting_staff", recipient=therapist, context=context,
                      idempotency_key=f"{key}:staff:{therapist.pk}", about=meeting, attachments=parts)
    for contact, authorization in allowed:
        disclosure = Disclosure.objects.create(
            practice=meeting.practice, patient=meeting.patient, authorization=authorization, contact=contact,
            to_address=contact.email, category=InfoCategory.MEETINGS,
            description=f"Meeting invitation ({method.lower()}, version {meeting.sequence})",
            purpose=authorization.purpose, meeting=meeting, sent_by=_actor_label(actor)[:200])
        disclosure.message = queue_message(practice=meeting.practice, kind="school_meeting_invite",
                                           recipient=contact, context=context, about=disclosure,
                                           idempotency_key=f"{key}:contact:{contact.pk}", attachments=parts)
        disclosure.save(update_fields=["message"])

