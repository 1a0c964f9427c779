"""The app's exceptions: one base class, one subclass per cause, each with a stable code.

Every Stripe failure reaches callers as one of these, never as a ``stripe`` exception, so a
site can catch :class:`CustomerSessionError` alone. ``status_code``/``code`` are what the
DRF endpoint answers with; ``default_detail`` is safe to show to a browser (it never
repeats Stripe's own message, which can contain part of an API key).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class CustomerSessionError(Exception):
    """Base class of every error the app raises."""

    status_code = 500
    code = "customer_session_error"
    default_detail = "The customer session could not be created."

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None) -> None:
        self.detail = detail or self.default_detail
        self.retry_after = retry_after
        super().__init__(self.detail)


class StripeUnavailable(CustomerSessionError, ConnectionError):
    """Stripe could not be reached, timed out, or answered with a server error."""

    status_code = 503
    code = "stripe_unavailable"
    default_detail = "Stripe is unavailable right now. Please try again in a moment."


class StripeRateLimited(StripeUnavailable):
    """Stripe's rate limit was hit. Answered as 503 with ``Retry-After``."""

    code = "stripe_rate_limited"
    default_detail = "Too many requests to Stripe right now. Please try again in a moment."


class SessionThrottled(CustomerSessionError):
    """The user asked for more new sessions than ``THROTTLE_RATE`` allows; try again later.

    ``retry_after`` says in how many seconds. The endpoint answers 429 with ``Retry-After``.
    """

    status_code = 429
    code = "throttled"
    default_detail = "Too many payment sessions in a short time. Please try again in a moment."


class SiteRateLimited(StripeUnavailable):
    """The whole site asked for ``SITE_SESSION_RATE`` sessions already in this window.

    Refused before anything is sent to Stripe, so that sessions never use up the writes
    the site's payments need. Answered as 503 with ``Retry-After``; ``retry_after`` says
    when the next window opens.
    """

    code = "site_rate_limited"
    default_detail = (
        "Too many payment sessions on this site right now. Please try again in a moment."
    )


class StripeMisconfigured(CustomerSessionError, ImproperlyConfigured):
    """The site's Stripe settings are missing or wrong (no key, bad key, missing permission)."""

    status_code = 500
    code = "stripe_misconfigured"
    default_detail = "Payments are not configured correctly on this site."


class StripeInvalidRequest(CustomerSessionError, ValueError):
    """Stripe refused the request the app made (for example a component it does not know)."""

    status_code = 500
    code = "stripe_invalid_request"
    default_detail = "Stripe refused the request for a customer session."


class CustomerConflict(CustomerSessionError):
    """The Stripe customer is already mapped to another user; it is never handed out."""

    status_code = 500
    code = "customer_conflict"
    default_detail = "This account's payment profile is in conflict and needs attention."


class CustomerNotInAccount(StripeMisconfigured):
    """Stripe does not know the user's mapped customer: the key belongs to another account.

    A customer Stripe confirms deleted is replaced; one the account has never heard of is
    a configuration error (a key pasted from another account, a rotated key of the wrong
    account): the mapping is kept, nothing new is made in the wrong account, and an error
    naming the account is logged. Point the key back, or forget such mappings with
    ``manage.py customer_sessions_verify --fix`` if they are gone for good.
    """

    code = "customer_not_in_account"
    default_detail = "Payments are not configured correctly on this site."


class TooManyReplacements(StripeMisconfigured):
    """Too many mapped customers went missing at once; the app stopped replacing them.

    This almost always means the site was pointed at another Stripe account or mode.
    """

    code = "too_many_missing_customers"
    default_detail = "Payments are not configured correctly on this site."


class UnknownComponents(CustomerSessionError, ValueError):
    """The caller asked for a component preset that ``COMPONENT_PRESETS`` does not define."""

    status_code = 400
    code = "unknown_components"
    default_detail = "Unknown components preset."
