"""The family's side of an offer: see it, take it or pass, from the link in the text."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from pedsdesk.portal.actions import link_actor
from pedsdesk.portal.views import render_for_family, resolve_family_link
from pedsdesk.scheduling.models import Offer
from pedsdesk.scheduling.offers import accept_offer, decline_offer


@never_cache
@require_http_methods(["GET", "POST"])
def family_offer(request: HttpRequest, token: str, pk: int, choice: str = "") -> HttpResponse:
    link, problem = resolve_family_link(request, token)
    if problem is not None:
        return problem
    # The link is for one guardian and one child: any other offer is simply not there.
    offer = get_object_or_404(Offer.objects.select_related("opening__therapist", "opening__practice", "patient"),
                              pk=pk, patient_id=link.patient_id, guardian_id=link.guardian_id)
    outcome = ""
    if request.method == "POST":
        if choice == "accept":
            outcome = accept_offer(offer=offer, actor=link_actor(link))
        elif choice == "decline":
            decline_offer(offer=offer, actor=link_actor(link))
            outcome = "declined"
        offer.refresh_from_db()
    # render_for_family puts the page on the practice's clock.
    context = {
        "offer": offer, "link": link, "outcome": outcome, "token": token,
        "start": offer.opening.start_at, "end": offer.opening.end_at, "expires": offer.expires_at,
        "open": offer.status == Offer.Status.SENT and offer.expires_at and offer.expires_at > timezone.now(),
        "practice": offer.opening.practice,
    }
    return render_for_family(request, link, "scheduling/family_offer.html", context)
