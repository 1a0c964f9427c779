"""Stripe Customer Sessions for Django.

Add ``"customer_sessions"`` to ``INSTALLED_APPS``; see the README for the rest.
"""

__version__ = "0.1.0"
