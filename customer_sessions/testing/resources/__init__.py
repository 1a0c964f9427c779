"""The Stripe resources the double serves, one module each; every function answers one route.

Each takes the :class:`~customer_sessions.testing.store.Store`, the authenticated
:class:`~customer_sessions.testing.exchange.Request` and the ids in the path, and returns
``(status, body)`` or raises a :class:`~customer_sessions.testing.errors.StripeError`.
"""
