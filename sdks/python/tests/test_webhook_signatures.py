"""verify_webhook and sign_webhook on fixed inputs (no server): the Standard Webhooks test vector,
tolerance, several signatures, header shapes, bad secrets."""

from __future__ import annotations

import base64
from typing import Dict

import pytest

from triggers import WebhookVerificationError, sign_webhook, verify_webhook

# The example from the Standard Webhooks specification's reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = '{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(signature: str = SIGNATURE, timestamp: object = TIMESTAMP) -> Dict[str, str]:
    return {"webhook-id": MSG_ID, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def test_sign_matches_the_standard_webhooks_example() -> None:
    assert sign_webhook(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE
    assert sign_webhook(SECRET, MSG_ID, TIMESTAMP, BODY.encode()) == SIGNATURE


def test_verify_accepts_the_example_and_returns_the_parsed_body() -> None:
    assert verify_webhook(BODY, headers(), SECRET, now=TIMESTAMP) == {"test": 2432232314}


def test_one_matching_signature_among_several_is_enough() -> None:
    other = sign_webhook("whsec_" + base64.b64encode(b"x" * 24).decode(), MSG_ID, TIMESTAMP, BODY)
    assert verify_webhook(BODY, headers(f"{other} v2,abc {SIGNATURE}"), SECRET, now=TIMESTAMP) == {"test": 2432232314}
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, headers(f"{other} v2,{SIGNATURE[3:]}"), SECRET, now=TIMESTAMP)


@pytest.mark.parametrize("offset, ok", [(0, True), (300, True), (-300, True), (301, False), (-301, False)])
def test_the_timestamp_tolerance(offset: int, ok: bool) -> None:
    if ok:
        verify_webhook(BODY, headers(), SECRET, now=TIMESTAMP + offset)
    else:
        with pytest.raises(WebhookVerificationError, match="300 s"):
            verify_webhook(BODY, headers(), SECRET, now=TIMESTAMP + offset)
    verify_webhook(BODY, headers(), SECRET, now=TIMESTAMP + 600, tolerance=600)


def test_a_changed_id_timestamp_or_body_fails() -> None:
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, {**headers(), "webhook-id": "msg_other"}, SECRET, now=TIMESTAMP)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, headers(timestamp=TIMESTAMP + 1), SECRET, now=TIMESTAMP)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY.replace("2432232314", "2432232315"), headers(), SECRET, now=TIMESTAMP)


def test_malformed_headers_and_secrets_fail_with_a_reason() -> None:
    with pytest.raises(WebhookVerificationError, match="Missing"):
        verify_webhook(BODY, {}, SECRET, now=TIMESTAMP)
    with pytest.raises(WebhookVerificationError, match="whole number"):
        verify_webhook(BODY, headers(timestamp="soon"), SECRET, now=TIMESTAMP)
    with pytest.raises(WebhookVerificationError, match="whsec_"):
        verify_webhook(BODY, headers(), "whsec_not base64!", now=TIMESTAMP)


def test_header_names_are_matched_without_case_in_mappings_and_pairs() -> None:
    upper = {k.upper(): v for k, v in headers().items()}
    assert verify_webhook(BODY, upper, SECRET, now=TIMESTAMP)
    assert verify_webhook(BODY, list(headers().items()), SECRET, now=TIMESTAMP)


def test_a_signed_body_that_is_not_json_fails() -> None:
    body = "not json"
    signature = sign_webhook(SECRET, MSG_ID, TIMESTAMP, body)
    with pytest.raises(WebhookVerificationError, match="not JSON"):
        verify_webhook(body, headers(signature), SECRET, now=TIMESTAMP)
