"""Subscriptions CRUD and rotate_secret; verify_webhook against webhooks the server really delivered."""

from __future__ import annotations

import base64
import time

import pytest

from servers import WebhookReceiver
from triggers import Triggers, TriggersError, WebhookVerificationError, verify_webhook


def wait_for_attempt(client: Triggers, event_id: str, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        event = client.events.get(event_id)
        if event["attempts"]:
            return event["attempts"][0]["status_code"] or 0
        assert time.monotonic() < deadline, "no delivery attempt recorded"
        time.sleep(0.1)


def test_subscriptions_create_read_list_update_disable_rotate_delete(client: Triggers, receiver: WebhookReceiver) -> None:
    created = client.subscriptions.create(event_selector={"type": "event_type", "value": "order.*"}, webhook_url=receiver.url("/crud"))
    assert created["secret"].startswith("whsec_")
    assert created["status"] == "active"
    assert client.subscriptions.get(created["workflow_id"])["webhook_url"] == receiver.url("/crud")
    assert "secret" not in client.subscriptions.get(created["workflow_id"])
    assert [s["workflow_id"] for s in client.subscriptions.iterate()] == [created["workflow_id"]]
    assert client.subscriptions.list(limit=1)["has_more"] is False
    assert client.subscriptions.update(created["workflow_id"], description="orders")["description"] == "orders"
    assert client.subscriptions.disable(created["workflow_id"])["status"] == "disabled"
    rotated = client.subscriptions.rotate_secret(created["workflow_id"])
    assert rotated["workflow_id"] == created["workflow_id"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    client.subscriptions.delete(created["workflow_id"])
    with pytest.raises(TriggersError) as gone:
        client.subscriptions.get(created["workflow_id"])
    assert (gone.value.code, gone.value.status) == ("not_found", 404)


def test_a_bad_selector_is_invalid_selector(client: Triggers, receiver: WebhookReceiver) -> None:
    with pytest.raises(TriggersError) as caught:
        client.subscriptions.create(event_selector={"type": "jsonpath", "expression": "$.a ==="}, webhook_url=receiver.url("/bad"))
    assert (caught.value.code, caught.value.status) == ("invalid_selector", 400)
    assert list(client.subscriptions.iterate()) == []


def test_a_delivered_webhook_verifies_and_a_tampered_or_old_one_does_not(client: Triggers, receiver: WebhookReceiver) -> None:
    created = client.subscriptions.create(event_selector={"type": "event_type", "value": "invoice.paid"}, webhook_url=receiver.url("/verify"))
    accepted = client.events.send({"event_type": "invoice.paid", "amount": 12})
    [request] = receiver.wait_for("/verify", 1)
    secret = created["secret"]

    events = verify_webhook(request.body, request.headers, secret)
    assert [e["event_id"] for e in events] == [accepted["event_id"]]
    assert events[0]["payload"] == {"event_type": "invoice.paid", "amount": 12}
    # The same with the body as text and the headers as a case-insensitive mapping.
    assert verify_webhook(request.body.decode(), {k.upper(): v for k, v in request.headers}, secret) == events

    with pytest.raises(WebhookVerificationError, match="No signature"):
        verify_webhook(request.body.replace(b"12", b"13"), request.headers, secret)
    with pytest.raises(WebhookVerificationError, match="No signature"):
        verify_webhook(request.body, request.headers, "whsec_" + base64.b64encode(b"another secret, 24 bytes").decode())
    timestamp = int(request.header("webhook-timestamp"))
    assert abs(timestamp - time.time()) < 60
    verify_webhook(request.body, request.headers, secret, now=timestamp + 299)
    with pytest.raises(WebhookVerificationError, match="from now"):
        verify_webhook(request.body, request.headers, secret, now=timestamp + 301)
    with pytest.raises(WebhookVerificationError, match="from now"):
        verify_webhook(request.body, request.headers, secret, now=timestamp - 3600)
    without_id = [(k, v) for k, v in request.headers if k.lower() != "webhook-id"]
    with pytest.raises(WebhookVerificationError, match="Missing"):
        verify_webhook(request.body, without_id, secret)

    assert wait_for_attempt(client, accepted["event_id"]) == 200
    client.events.replay(accepted["event_id"])
    replayed = receiver.wait_for("/verify", 2)[1]
    assert replayed.header("webhook-id") != request.header("webhook-id"), "a replay is a new delivery"
    assert verify_webhook(replayed.body, replayed.headers, secret)[0]["event_id"] == accepted["event_id"]


def test_during_a_rotation_both_secrets_verify(client: Triggers, receiver: WebhookReceiver) -> None:
    created = client.subscriptions.create(event_selector={"type": "event_type", "value": "rotated"}, webhook_url=receiver.url("/rotation"))
    rotated = client.subscriptions.rotate_secret(created["workflow_id"])
    client.events.send({"event_type": "rotated"})
    [request] = receiver.wait_for("/rotation", 1)
    signatures = request.header("webhook-signature").split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures), signatures
    verify_webhook(request.body, request.headers, rotated["secret"])
    verify_webhook(request.body, request.headers, created["secret"])
    other = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()
    verify_webhook(request.body, request.headers, [other, rotated["secret"]])
    with pytest.raises(WebhookVerificationError):
        verify_webhook(request.body, request.headers, [other])

