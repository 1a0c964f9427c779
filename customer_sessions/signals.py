"""Signals the app sends. None of them ever carries a client secret."""

from django.dispatch import Signal

# A Stripe customer was created and mapped to a user.
# Sent with: sender=StripeCustomer, user, customer_id, mode, account.
customer_created = Signal()

# A mapped customer that Stripe no longer knows was replaced by a new one.
# Sent with: sender=StripeCustomer, user, old_customer_id, mode, account, reason.
customer_replaced = Signal()

# A Customer Session was created (the secret itself is not sent).
# Sent with: sender=StripeCustomer, user, customer_id, mode, account, components, expires_at.
session_created = Signal()
