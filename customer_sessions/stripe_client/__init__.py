"""The Stripe client layer, the only code of the app that talks to Stripe.

- :mod:`.clients`: the long-lived ``StripeClient`` objects (``get_client``,
  ``get_async_client``) and the key's mode;
- :mod:`.transports`: how their requests travel (on stripe-python's ``HTTPClient`` base);
- :mod:`.errors`: stripe-python's exceptions turned into the app's;
- :mod:`.calls`: each request the app makes, sync and async.
"""

from .clients import get_async_client, get_client, refuse_console_debug_output, stripe_mode

__all__ = ["get_async_client", "get_client", "refuse_console_debug_output", "stripe_mode"]
