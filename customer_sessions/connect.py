"""Which Stripe account a request's customers live on (Stripe Connect: the ``ACCOUNT`` setting)."""

from __future__ import annotations

import logging
import re
from typing import Any

from .conf import SETTING_NAME, get_settings
from .exceptions import StripeMisconfigured

logger = logging.getLogger(__name__)

_ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]+")


def account_for(request: Any) -> str:
    """The connected account for ``request``: ``CUSTOMER_SESSIONS['ACCOUNT'](request)``.

    ``""`` (the platform account) when the setting is not set. Anything but ``""`` or an
    ``"acct_…"`` id from the function raises :class:`StripeMisconfigured` (its value is
    not repeated: it may come from the request).
    """
    func = get_settings().account_func()
    if func is None:
        return ""
    account = func(request)
    if isinstance(account, str) and (account == "" or _ACCOUNT_ID.fullmatch(account)):
        return account
    what = "a str that is not" if isinstance(account, str) else f"{type(account).__name__}, not"
    message = (
        f"{SETTING_NAME}['ACCOUNT'] returned {what} \"\" (the platform account) or a "
        'connected account id ("acct_…").'
    )
    logger.error("%s", message)
    raise StripeMisconfigured(message)
