"""The app's public Python API, in one place: import what you need from here.

- Sessions: :func:`create_customer_session`, :func:`acreate_customer_session`
  (:mod:`customer_sessions.sessions`), returning a :class:`CustomerSession` whose
  ``client_secret`` is a :class:`ClientSecret`.
- The customer: :func:`get_or_create_customer`, :func:`aget_or_create_customer`
  (:mod:`customer_sessions.mapping`).
- Stripe: :func:`get_client`, :func:`get_async_client`, :func:`stripe_mode`
  (:mod:`customer_sessions.stripe_client`); :func:`account_for`, the ``ACCOUNT`` setting
  applied to a request (:mod:`customer_sessions.connect`).
- Maintenance: :func:`verify_customer`, :func:`customer_status`, :func:`fix_customer`,
  :func:`forget_customer`, :func:`delete_stripe_customer`, with :class:`CustomerStatus`
  (:mod:`customer_sessions.maintenance`).

The modules named above hold the code; see docs/architecture.md for how they fit.
"""

from .connect import account_for
from .maintenance import (
    customer_status,
    delete_stripe_customer,
    fix_customer,
    forget_customer,
    verify_customer,
)
from .mapping import aget_or_create_customer, get_or_create_customer
from .sessions import acreate_customer_session, create_customer_session
from .stripe_client import get_async_client, get_client, stripe_mode
from .values import ClientSecret, CustomerSession, CustomerStatus

__all__ = [
    "ClientSecret",
    "CustomerSession",
    "CustomerStatus",
    "account_for",
    "acreate_customer_session",
    "aget_or_create_customer",
    "create_customer_session",
    "customer_status",
    "delete_stripe_customer",
    "fix_customer",
    "forget_customer",
    "get_async_client",
    "get_client",
    "get_or_create_customer",
    "stripe_mode",
    "verify_customer",
]
