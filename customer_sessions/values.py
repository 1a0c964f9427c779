"""The values the app hands out: a masked client secret, a Customer Session, a customer's status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NoReturn


class ClientSecret(str):
    """A client secret: a plain ``str`` everywhere, but masked in ``repr()``.

    Tracebacks (Django's technical 500 page shows every frame's locals with ``repr``),
    ``%r`` log arguments and debuggers then show ``ClientSecret('cuss_secret_…')``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"ClientSecret('{self[:12]}…')"


@dataclass(frozen=True, slots=True)
class CustomerSession:
    """A fresh Customer Session: hand ``client_secret`` to Stripe.js, then forget it.

    Every field of Stripe's resource: ``client_secret``, ``expires_at`` and ``created``
    (Unix time), ``customer`` (the ``cus_…`` id), ``customer_account`` (the ``acct_…`` of a
    customer-configured Account, or ``None``), ``livemode`` and ``components`` (what Stripe
    answered: each component with ``enabled`` and its ``features``).
    The secret is kept out of ``repr()`` and the value refuses to be pickled, so it cannot
    end up in a log line, a cache or a session by accident.
    """

    client_secret: str = field(repr=False)
    expires_at: int
    customer: str
    livemode: bool
    components: Mapping[str, Any]
    created: int = 0
    customer_account: str | None = None

    @property
    def enabled_components(self) -> tuple[str, ...]:
        """The names of the components this session enables, e.g. ``("payment_element",)``."""
        return tuple(
            name
            for name, value in self.components.items()
            if isinstance(value, Mapping) and value.get("enabled")
        )

    def as_json(self) -> dict[str, Any]:
        """What a page needs: the secret and when it expires (Unix time)."""
        return {"client_secret": self.client_secret, "expires_at": self.expires_at}

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError(
            "A CustomerSession holds a client secret and must not be pickled, cached or "
            "stored; create a new one for every page instead."
        )

    def __copy__(self) -> CustomerSession:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> CustomerSession:
        return self


class CustomerStatus(StrEnum):
    """What Stripe says of a customer (:func:`~customer_sessions.services.verify_customer`)."""

    OK = "ok"
    #: Stripe answers ``deleted: true`` (someone deleted it, in the dashboard say).
    DELETED = "deleted"
    #: Stripe does not know it (404 ``resource_missing``) with the configured key.
    MISSING = "missing"
    #: Stripe knows it in the other mode (a test customer asked for with a live key).
    WRONG_MODE = "wrong_mode"
    #: The mapping was made in the other mode than the configured key's: not asked.
    OTHER_MODE = "other_mode"
    #: A pending claim: there is no customer to ask about yet.
    PENDING = "pending"
