"""Standard Webhooks signatures (https://www.standardwebhooks.com), as the Triggers deliverer sends them.

``webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">``, keyed
with the base64-decoded part of the subscription's ``whsec_`` secret. During a secret rotation the
header carries several space-separated signatures; one match is enough.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from .errors import WebhookVerificationError

#: How far ``webhook-timestamp`` may be from now, in seconds (Standard Webhooks' advice).
DEFAULT_TOLERANCE = 300

Headers = Union[Mapping[str, Any], Iterable[Tuple[str, str]]]


def verify_webhook(
    body: Union[bytes, bytearray, str],
    headers: Headers,
    secret: Union[str, Sequence[str]],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: Optional[float] = None,
) -> Any:
    """Checks a received webhook and returns its parsed body (the list of events).

    ``body`` is the request body exactly as received (bytes, or the text decoded from them),
    never a re-serialised object. ``headers`` is any mapping (a dict, Flask's ``request.headers``,
    Starlette's ``request.headers``) or a list of (name, value) pairs; names are matched without
    regard to case. ``secret`` is the subscription's ``whsec_...`` secret, or several during a
    rotation. Raises ``WebhookVerificationError`` when a header is missing, the timestamp is more
    than ``tolerance`` seconds from ``now`` (a replayed request), or no signature matches.
    """
    webhook_id = header(headers, "webhook-id")
    timestamp = header(headers, "webhook-timestamp")
    signatures = header(headers, "webhook-signature")
    if not webhook_id or not timestamp or not signatures:
        raise WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature header.")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise WebhookVerificationError("webhook-timestamp is not a whole number of seconds.")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp is more than {tolerance} s from now.")

    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    offered = [value for version, _, value in (part.partition(",") for part in signatures.split(" ")) if version == "v1" and value]
    secrets = [secret] if isinstance(secret, str) else list(secret)
    for candidate in secrets:
        expected = _sign(candidate, webhook_id, timestamp, raw)
        # compare_digest on every offered value: the time taken says nothing about how close one came.
        if any(hmac.compare_digest(value.encode("ascii", "replace"), expected.encode("ascii")) for value in offered):
            try:
                return json.loads(raw)
            except ValueError as error:
                raise WebhookVerificationError("The signed body is not JSON.") from error
    raise WebhookVerificationError("No signature matches the secret.")


def sign_webhook(secret: str, webhook_id: str, timestamp: int, body: Union[bytes, str]) -> str:
    """The ``webhook-signature`` header value for a body: ``v1,<base64>`` (what the deliverer sends)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return "v1," + _sign(secret, webhook_id, str(timestamp), raw)


def _sign(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    message = f"{webhook_id}.{timestamp}.".encode("utf-8") + body
    digest = hmac.new(_secret_key(secret), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _secret_key(secret: str) -> bytes:
    encoded = secret[len("whsec_") :] if secret.startswith("whsec_") else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise WebhookVerificationError("The secret is not whsec_<base64>.") from error


def header(headers: Headers, name: str) -> Optional[str]:
    """A header's value, whatever the case of its name; repeated headers joined with a space."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    values: List[str] = []
    for key, value in items:
        if key.lower() != name:
            continue
        if isinstance(value, (list, tuple)):
            values.extend(str(v) for v in value)
        else:
            values.append(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    return " ".join(values) if values else None
