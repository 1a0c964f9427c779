"""The Stripe webhook endpoint: keeps the mapping in step with what happens in Stripe.

Mount it (``customer_sessions.urls`` does, as ``webhook/``), add the URL as an endpoint in
the Stripe dashboard (Developers → Webhooks) for the ``customer.deleted`` event (and, with
customer-configured Accounts, as an event destination for the thin
``v2.core.account.closed`` event), and put its signing secret(s) in
``CUSTOMER_SESSIONS["WEBHOOK_SECRET"]``.

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
- ``v2.core.account.closed``, a thin event notification (``"object": "v2.core.event"``,
  parsed with ``StripeClient.parse_event_notification``, the same on every stripe-python
  the app supports; on 14.1, which has no class for this type, it is an
  ``UnknownEventNotification`` with the same ``type`` and ``related_object``): the
  mapping of that customer account is forgotten as ``customer.deleted`` forgets a
  customer. Only a mapping to a customer account: a Connect account closing is not a
  customer's.
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
from .models import CustomerObject, Mode, ProcessedWebhookEvent, ReplacedStripeCustomer
from .stripe_client import get_client

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


def account_closed(event: dict[str, Any]) -> None:
    """``v2.core.account.closed``: forget the customer account's mapping, as a deleted
    customer's (the thin event's ``related_object`` is the account)."""
    account_id = (event.get("related_object") or {}).get("id") or ""
    mode = Mode.LIVE if event.get("livemode") else Mode.TEST
    if forget_customer(
        account_id,
        ReplacedStripeCustomer.Reason.DELETED,
        mode=mode,
        account=event.get("account") or "",
        customer_object=CustomerObject.ACCOUNT,
    ):
        logger.info("Stripe event %s: customer account %s was closed.", event["id"], account_id)


#: Event type → handler. Handlers run in a transaction together with the stored event id.
#: A thin (v2) event reaches its handler as ``id``, ``type``, ``livemode``, ``account``
#: (its context) and ``related_object``.
HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "customer.deleted": customer_deleted,
    "v2.core.account.closed": account_closed,
}

#: The ``object`` of a thin event notification's payload.
THIN_EVENT = "v2.core.event"


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
    tolerance, in the past (stripe-python's check) or in the future. A thin event is
    verified and read by ``StripeClient.parse_event_notification``, a snapshot event by
    ``stripe.Webhook.construct_event``.
    """
    tolerance = get_settings().WEBHOOK_TOLERANCE
    thin = _is_thin(payload)
    for secret in _secrets():
        try:
            if thin:
                notification = get_client().parse_event_notification(
                    payload, signature, secret, tolerance=tolerance
                )
            else:
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
        if thin:
            return _thin_event(notification)
        event = json.loads(payload)
        return event if isinstance(event, dict) else None
    return None


def _is_thin(payload: str) -> bool:
    try:
        body = json.loads(payload)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("object") == THIN_EVENT


def _thin_event(notification: Any) -> dict[str, Any]:
    """A thin event notification as the handlers read events (its public attributes)."""
    related = getattr(notification, "related_object", None)
    return {
        "id": notification.id,
        "type": notification.type,
        "livemode": bool(notification.livemode),
        "account": str(notification.context) if notification.context else "",
        "related_object": (
            {"id": related.id, "type": related.type, "url": related.url} if related else None
        ),
    }


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
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        # Not JSON, or a thin event without the fields stripe-python reads (id, type,
        # created): refused as unreadable, whatever its signature.
        event = None
    except CustomerSessionError as exc:  # a thin event needs the app's client: no key
        logger.error("A Stripe thin event arrived but cannot be read: %s; refused (500).", exc)
        return _answer(500, "webhook_misconfigured", "The Stripe secret key is not set.")
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
