"""The Stripe webhook endpoint: keeps the mapping in step with what happens in Stripe.

Mount it (``customer_sessions.urls`` does, as ``webhook/``), add the URL as an endpoint in
the Stripe dashboard (Developers → Webhooks) for the ``customer.deleted`` event, and put
its signing secret in ``CUSTOMER_SESSIONS["WEBHOOK_SECRET"]``.

- The signature is checked with ``stripe.Webhook.construct_event`` against the signing
  secret(s) and ``WEBHOOK_TOLERANCE`` (seconds); a bad, missing or stale signature answers
  400 and changes nothing. stripe-python checks the age of the signature's timestamp
  only, so a timestamp further ahead than the tolerance is refused here, from the
  documented header (``t=<unix time>,v1=<signature>[,…]``, one ``t``).
- Without a signing secret, or with a ``WEBHOOK_TOLERANCE`` that is not a positive number
  of seconds (0 or None would turn the age check off), every event answers 500, so Stripe
  delivers it again once the setting is fixed.
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
import math
import re
import time
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

__all__ = ["HANDLERS", "stripe_webhook", "valid_tolerance"]


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


def valid_tolerance(value: Any) -> bool:
    """Whether ``value`` is a usable ``WEBHOOK_TOLERANCE``: a positive, finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value > 0


_TIMESTAMP = re.compile(r"[0-9]{1,15}")


def _signed_at(signature: str) -> int | None:
    """The ``t`` of a ``Stripe-Signature`` header, or None unless it has exactly one."""
    stamps = [item[2:] for item in signature.split(",") if item.startswith("t=")]
    if len(stamps) != 1 or not _TIMESTAMP.fullmatch(stamps[0]):
        return None
    return int(stamps[0])


def _verified_event(payload: str, signature: str | None) -> dict[str, Any] | None:
    """The event if ``signature`` is valid for one of the signing secrets, else None.

    Valid: an HMAC of one of the secrets, timestamped no further from now than the
    tolerance, in the past (stripe-python's check) or in the future.
    """
    tolerance = get_settings().WEBHOOK_TOLERANCE
    for secret in _secrets():
        try:
            stripe.Webhook.construct_event(payload, signature, secret, tolerance=tolerance)
        except stripe.SignatureVerificationError:
            continue
        signed_at = _signed_at(signature or "")
        if signed_at is None:
            return None
        ahead = signed_at - time.time()
        if ahead > tolerance:
            logger.warning(
                "Refused a Stripe webhook signed %d s in the future (WEBHOOK_TOLERANCE is "
                "%s s); is this server's clock behind?",
                ahead,
                tolerance,
            )
            return None
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
    tolerance = get_settings().WEBHOOK_TOLERANCE
    if not valid_tolerance(tolerance):
        logger.error(
            "A Stripe webhook arrived but %s['WEBHOOK_TOLERANCE'] = %r is not a positive number "
            "of seconds; refused (500, Stripe will retry).",
            SETTING_NAME,
            tolerance,
        )
        return _answer(
            500, "webhook_misconfigured", "The webhook signature tolerance is not valid."
        )
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
