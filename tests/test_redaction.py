"""Log records never carry a secret or a key: every kind the filter is meant to catch."""

from __future__ import annotations

import logging

import pytest

from customer_sessions.redaction import REDACTED, RedactSecretsFilter, redact

SECRETS = {
    "customer session secret": "cuss_secret_QWxhZGRpbjpvcGVuIHNlc2FtZQ123",
    "PaymentIntent secret": "pi_3PExample1234567890_secret_AbCdEf0123456789",
    "SetupIntent secret": "seti_1PExample1234567890_secret_AbCdEf0123456789",
    "test secret key": "sk_test_51PExampleAbCdEfGhIjKlMnOpQrStUvWxYz",
    "live secret key": "sk_live_51PExampleAbCdEfGhIjKlMnOpQrStUvWxYz",
    "test restricted key": "rk_test_51PExampleAbCdEfGhIjKlMnOpQrStUvWxYz",
    "live restricted key": "rk_live_51PExampleAbCdEfGhIjKlMnOpQrStUvWxYz",
    "webhook signing secret": "whsec_0123456789abcdefABCDEF0123456789",
}


@pytest.mark.parametrize("secret", list(SECRETS.values()), ids=list(SECRETS))
def test_every_kind_of_secret_is_redacted(secret):
    text = f'body={{"value": "{secret}", "next": 1}}'
    cleaned = redact(text)
    assert secret not in cleaned
    assert secret[-12:] not in cleaned
    assert REDACTED in cleaned
    assert cleaned.endswith('", "next": 1}')


@pytest.mark.parametrize(
    "text",
    ["cus_NffrFeUfNV2Hib", "pk_test_51PublishableIsNotASecret", "acct_1Connected", "sk_other"],
)
def test_ids_that_are_not_secrets_are_left_alone(text):
    assert redact(f"x {text} y") == f"x {text} y"


@pytest.mark.parametrize("secret", list(SECRETS.values()), ids=list(SECRETS))
def test_the_filter_rewrites_a_record_and_its_arguments(secret):
    record = logging.LogRecord(
        "stripe", logging.DEBUG, __file__, 1, "got %s and %r", (secret, 7), None
    )
    assert RedactSecretsFilter().filter(record) is True
    assert secret not in record.getMessage()
    assert record.getMessage() == f"got {REDACTED} and 7"


def test_stripe_pythons_logger_carries_the_filter():
    filters = logging.getLogger("stripe").filters
    assert any(isinstance(f, RedactSecretsFilter) for f in filters)
