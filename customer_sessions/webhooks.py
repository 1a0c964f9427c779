"""The Stripe webhook endpoint: keeps the mapping in step with what happens in Stripe.

Mount it (``customer_sessions.urls`` does, as ``webhook/``), add the URL as an endpoint in
the Stripe dashboard (Developers → Webhooks) for the ``customer.deleted`` event, and put
its signing secret in ``CUSTOMER_SESSIONS["WEBHOOK_SECRET"]``.

- The signature is checked with ``stripe.Webhook.construct_event`` against the signing
  secret(s) and ``WEBHOOK_TOLERANCE`` (seconds); a bad, missing or stale signature answers
  400 and changes nothing.
- ``customer.deleted``: the mapping of that customer (same mode and account) is forgotten
  under the same rules as when a session finds its customer gone, with reason "deleted",
  so the user's next session creates a new customer.
- Each handled event id is stored (unique): a replay answers 200 and changes nothing.
- When handling fails (the database, too many replacements at once) the answer is 500
  and nothing is stored, so Stripe delivers the event again later.
- Other event types answer 200 and are ignored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .conf import SETTING_NAME, get_settings
from .exceptions import CustomerSessionError
from .maintenance import forget_customer
from .models import Mode, ProcessedWebhookEvent, ReplacedStripeCustomer

logger = logging.getLogger(__name__)

__all__ = ["HANDLERS", "stripe_webhook"]


def customer_deleted(event: dict[str, Any]) -> None:
    """``customer.deleted``: forget the mapping so the next session creates a new customer."""
    customer_id = event["data"]["object"]["id"]
    mode = Mode.LIVE if event.get("livemode") else Mode.TEST
    account = event.get("account") or ""
    if forget_customer(
        customer_id, ReplacedStripeCustomer.Reason.DELETED, mode=mode, account=account
    ):
        logger.info("Stripe event %s: customer %s was deleted.", event["id"], customer_id)


#: Event type → handler. Handlers run in a transaction together with the stored event id.
HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "customer.deleted": customer_deleted,
}


def _answer(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def _secrets() -> list[str]:
    value = get_settings().WEBHOOK_SECRET
    if not value:
        return []
    return [value] if isinstance(value, str) else [s for s in value if s]


def _verified_event(payload: str, signature: str | None) -> dict[str, Any] | None:
    """The event if ``signature`` is valid for one of the signing secrets, else None."""
    tolerance = get_settings().WEBHOOK_TOLERANCE
    for secret in _secrets():
        try:
            stripe.Webhook.construct_event(payload, signature, secret, tolerance=tolerance)
        except stripe.SignatureVerificationError:
            continue
        event = json.loads(payload)
        return event if isinstance(event, dict) else None
    return None


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Receive one Stripe event (see the module's docstring)."""
    if not _secrets():
        logger.error(
            "A Stripe webhook arrived but %s['WEBHOOK_SECRET'] is not set; refused (500, "
            "Stripe will retry).",
            SETTING_NAME,
        )
        return _answer(500, "webhook_misconfigured", "The webhook signing secret is not set.")
    try:
        payload = request.body.decode("utf-8")
        event = _verified_event(payload, request.headers.get("Stripe-Signature"))
    except (UnicodeDecodeError, ValueError):
        event = None
    if event is None or not isinstance(event.get("id"), str) or "type" not in event:
        logger.warning("Refused a Stripe webhook with a missing, bad or stale signature.")
        return _answer(400, "bad_signature", "The Stripe signature is missing or not valid.")

    handler = HANDLERS.get(event["type"])
    if handler is None:
        return _answer(200, "ignored", f"Event type {event['type']} is not handled.")
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    ProcessedWebhookEvent.objects.create(
                        event_id=event["id"],
                        type=event["type"],
                        livemode=bool(event.get("livemode")),
                        account=event.get("account") or "",
                    )
            except IntegrityError:
                logger.info("Stripe event %s was already processed; ignored.", event["id"])
                return _answer(200, "duplicate", "This event was already processed.")
            handler(event)
    except Exception as exc:  # noqa: BLE001 - the database, a site's receiver, a bad event
        # Nothing was stored (the event row rolls back with the handler), so Stripe
        # delivers the event again later. The app's own errors are logged by name; anything
        # else (a site's signal receiver failing, say) with its traceback.
        logger.error(
            "Stripe event %s (%s) could not be processed: %s; Stripe will retry it.",
            event["id"],
            event["type"],
            type(exc).__name__,
            exc_info=not isinstance(exc, CustomerSessionError | KeyError | TypeError),
        )
        return _answer(500, "not_processed", "The event could not be processed; retry later.")
    return _answer(200, "processed", "The event was processed.")
