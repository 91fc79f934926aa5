"""events.send / send_batch / get / replay, problem errors, retries and timeouts, on a real all-in-one."""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, List, Tuple, cast

import httpx
import pytest

from conftest import FAST_RETRY
from servers import Admin, Customer, DroppingProxy, SilentServer, closed_port_url, inbox_payloads
from triggers import MAX_BATCH_EVENTS, RetryPolicy, Triggers, TriggersError

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$"


def test_send_then_get_returns_the_stored_event(client: Triggers, customer: Customer, server_url: str) -> None:
    payload = {"event_type": "order.created", "order_id": 42, "price": 9.99, "nested": {"tags": ["a", "b"], "ok": True, "none": None}}
    accepted = client.events.send(payload)
    assert accepted["status"] == "accepted"
    assert accepted["event_id"]
    event = client.events.get(accepted["event_id"])
    assert event["event_id"] == accepted["event_id"]
    assert event["customer_id"] == customer.customer_id
    assert event["payload"] == payload
    assert event["attempts"] == []
    assert inbox_payloads(server_url, customer.api_key) == {accepted["event_id"]: payload}


def test_integers_beyond_2_53_leave_the_sdk_exactly(admin: Admin, server_url: str) -> None:
    # What the server keeps of them is issue 11's (exact payloads); the SDK must not round them.
    customer = admin.create_customer()
    sent: List[bytes] = []
    with httpx.Client(event_hooks={"request": [lambda request: sent.append(request.content)]}) as http:
        with Triggers(server_url, customer.api_key, http_client=http) as client:
            client.events.send({"big": 2**64 + 1, "negative": -(2**70)})
    assert json.loads(sent[0]) == {"payload": {"big": 18446744073709551617, "negative": -1180591620717411303424}}
    assert b"18446744073709551617" in sent[0]


def test_the_client_reads_its_url_and_key_from_the_environment(server_url: str, monkeypatch: pytest.MonkeyPatch, customer: Customer) -> None:
    monkeypatch.setenv("TRIGGERS_URL", server_url)
    monkeypatch.setenv("TRIGGERS_API_KEY", customer.api_key)
    with Triggers() as client:
        accepted = client.events.send({"from": "environment"})
    assert inbox_payloads(server_url, customer.api_key) == {accepted["event_id"]: {"from": "environment"}}
    monkeypatch.delenv("TRIGGERS_API_KEY")
    with pytest.raises(ValueError, match="TRIGGERS_API_KEY"):
        Triggers()


def test_send_retried_after_the_answer_was_lost_creates_one_event(proxy: DroppingProxy, new_customer_client: Callable[..., Tuple[Triggers, Customer]], server_url: str) -> None:
    client, customer = new_customer_client(base_url=proxy.url)
    proxy.drop_next_response()
    accepted = client.events.send({"event_type": "order.created", "order_id": 7})
    assert proxy.dropped.is_set(), "the first answer really was lost: the call succeeded through its retry"
    stored = inbox_payloads(server_url, customer.api_key)
    assert stored == {accepted["event_id"]: {"event_type": "order.created", "order_id": 7}}, f"one event, not {len(stored)}"


def test_without_an_idempotency_key_the_same_lost_answer_would_store_two(proxy: DroppingProxy, admin: Admin, server_url: str) -> None:
    """The control for the test above: the proxy's drop does lose an answer to a stored event, so
    only the SDK's key keeps a retry from storing it twice."""
    customer = admin.create_customer()
    with httpx.Client(base_url=proxy.url, headers={"authorization": f"Bearer {customer.api_key}"}, timeout=10) as raw:
        proxy.drop_next_response()
        with pytest.raises(httpx.TransportError):
            raw.post("/api/v1/events", json={"payload": {"n": 1}})
        assert raw.post("/api/v1/events", json={"payload": {"n": 1}}).status_code == 202
    assert len(inbox_payloads(server_url, customer.api_key)) == 2


def test_the_same_idempotency_key_twice_gives_the_same_event(client: Triggers, customer: Customer, server_url: str) -> None:
    first = client.events.send({"n": 1}, idempotency_key="py-key-1")
    second = client.events.send({"n": 1}, idempotency_key="py-key-1")
    assert second["event_id"] == first["event_id"]
    assert len(inbox_payloads(server_url, customer.api_key)) == 1
    with pytest.raises(TriggersError) as reused:
        client.events.send({"n": 2}, idempotency_key="py-key-1")
    assert (reused.value.code, reused.value.status) == ("idempotency_key_reused", 422)


def test_a_bad_payload_is_a_problem_error_with_code_status_and_request_id(client: Triggers, customer: Customer, server_url: str) -> None:
    with pytest.raises(TriggersError) as caught:
        client.events.send(cast(Any, ["not", "an", "object"]))
    error = caught.value
    assert error.code == "invalid_request"
    assert error.status == 400
    assert error.request_id and error.request_id.strip()
    assert error.title and error.type and error.detail
    assert error.problem is not None and error.problem["code"] == "invalid_request" and error.problem["status"] == 400
    assert "invalid_request" in str(error) and "400" in str(error)
    assert inbox_payloads(server_url, customer.api_key) == {}


def test_unknown_event_and_bad_key_are_not_found_and_unauthorized(client: Triggers, server_url: str) -> None:
    with pytest.raises(TriggersError) as missing:
        client.events.get("01900000-0000-7000-8000-000000000000")
    assert (missing.value.code, missing.value.status) == ("not_found", 404)
    assert missing.value.request_id
    with Triggers(server_url, "sk_test_" + "x" * 40, retry=FAST_RETRY) as stranger:
        with pytest.raises(TriggersError) as unauthorized:
            stranger.inbox.list()
    assert (unauthorized.value.code, unauthorized.value.status) == ("unauthorized", 401)


def test_replay_of_an_unknown_event_is_not_found(client: Triggers) -> None:
    with pytest.raises(TriggersError) as caught:
        client.events.replay("01900000-0000-7000-8000-000000000001")
    assert caught.value.status == 404


def test_a_429_is_waited_out_for_its_retry_after_then_succeeds(new_customer_client: Callable[..., Tuple[Triggers, Customer]], admin: Admin, server_url: str) -> None:
    client, customer = new_customer_client(retry=RetryPolicy(max_retries=3, base_delay=0.05, max_delay=5.0))
    admin.set_rate_limit(customer.customer_id, 1)
    time.sleep(1.1)  # a limit change applies within 1 s
    client.events.send({"n": 1})
    started = time.monotonic()
    second = client.events.send({"n": 2})
    waited = time.monotonic() - started
    # The backoff alone would be ~0.05 s: only the server's Retry-After (1 s) explains this wait.
    assert waited >= 0.5, f"answered after {waited:.2f} s: the 429 was not waited out"
    assert second["event_id"] in inbox_payloads(server_url, customer.api_key)


def test_a_429_without_retries_left_is_rate_limited_with_its_retry_after(new_customer_client: Callable[..., Tuple[Triggers, Customer]], admin: Admin, server_url: str) -> None:
    client, customer = new_customer_client(retry=RetryPolicy(max_retries=0))
    admin.set_rate_limit(customer.customer_id, 1)
    time.sleep(1.1)
    client.events.send({"n": 1})
    with pytest.raises(TriggersError) as caught:
        client.events.send({"n": 2})
    assert (caught.value.code, caught.value.status) == ("rate_limited", 429)
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1
    assert len(inbox_payloads(server_url, customer.api_key)) == 1


def test_a_server_that_does_not_answer_times_out_after_each_attempt(silent_server: SilentServer) -> None:
    with Triggers(silent_server.url, "sk_test_x", timeout=0.2, retry=RetryPolicy(max_retries=1, base_delay=0.05)) as client:
        started = time.monotonic()
        with pytest.raises(TriggersError) as caught:
            client.inbox.list()
    assert (caught.value.code, caught.value.status) == ("timeout", 0)
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)
    assert time.monotonic() - started >= 0.4, "two attempts of 0.2 s"


def test_a_refused_connection_is_retried_then_a_network_error(server_url: str) -> None:
    # Even a replay (not idempotent) is retried here: a refused connection never reached a server.
    with Triggers(closed_port_url(), "sk_test_x", retry=RetryPolicy(max_retries=2, base_delay=0.1)) as client:
        started = time.monotonic()
        with pytest.raises(TriggersError) as caught:
            client.events.replay("01900000-0000-7000-8000-000000000002")
    assert (caught.value.code, caught.value.status) == ("network_error", 0)
    assert time.monotonic() - started >= 0.08 + 0.16, "two backoffs were waited"


def test_send_batch_splits_into_requests_of_at_most_500_in_order(admin: Admin, server_url: str) -> None:
    customer = admin.create_customer()
    sizes: Dict[str, int] = {}  # by idempotency key, in the order sent

    def record(request: httpx.Request) -> None:
        # A request retried (e.g. after a 429: 1,201 events exceed the default 1,000/s) repeats its key.
        size = len(json.loads(request.content)["events"])
        assert sizes.setdefault(request.headers["idempotency-key"], size) == size

    with httpx.Client(event_hooks={"request": [record]}) as http, Triggers(server_url, customer.api_key, retry=FAST_RETRY, http_client=http) as client:
        payloads = [{"event_type": "bulk", "i": i} for i in range(1201)]
        accepted = client.events.send_batch(payloads)
        assert client.events.send_batch([]) == []
    assert MAX_BATCH_EVENTS == 500
    assert list(sizes.values()) == [500, 500, 201], "each request of at most 500 has its own idempotency key"
    assert len(accepted) == 1201
    stored = inbox_payloads(server_url, customer.api_key)
    assert len(stored) == 1201
    assert [stored[event["event_id"]]["i"] for event in accepted] == list(range(1201)), "accepted in input order"


def test_send_batch_with_a_bad_item_fails_its_request_and_keeps_the_earlier_ones(client: Triggers, customer: Customer, server_url: str) -> None:
    payloads: List[Any] = [{"i": i} for i in range(MAX_BATCH_EVENTS)] + [{"ok": True}, 5]
    with pytest.raises(TriggersError) as caught:
        client.events.send_batch(payloads)
    error = caught.value
    assert (error.code, error.status) == ("invalid_request", 400)
    assert [e["index"] for e in error.errors] == [1], "the index within the failed request"
    assert len(error.accepted_so_far) == MAX_BATCH_EVENTS
    assert set(inbox_payloads(server_url, customer.api_key)) == {e["event_id"] for e in error.accepted_so_far}


def test_send_batch_with_a_key_is_safe_to_repeat(client: Triggers, customer: Customer, server_url: str) -> None:
    payloads = [{"i": i} for i in range(MAX_BATCH_EVENTS + 3)]
    first = client.events.send_batch(payloads, idempotency_key="py-batch-1")
    again = client.events.send_batch(payloads, idempotency_key="py-batch-1")
    assert [e["event_id"] for e in again] == [e["event_id"] for e in first]
    assert len(inbox_payloads(server_url, customer.api_key)) == MAX_BATCH_EVENTS + 3


def test_send_batch_splits_a_request_larger_than_the_burst(admin: Admin, server_url: str) -> None:
    customer = admin.create_customer()
    admin.set_rate_limit(customer.customer_id, 40)
    time.sleep(1.1)  # the new limit applies within 1 s
    sizes: Dict[str, int] = {}

    def record(request: httpx.Request) -> None:
        sizes.setdefault(request.headers["idempotency-key"], len(json.loads(request.content)["events"]))

    with httpx.Client(event_hooks={"request": [record]}) as http, Triggers(server_url, customer.api_key, retry=FAST_RETRY, http_client=http) as client:
        payloads = [{"event_type": "bulk", "i": i} for i in range(130)]
        accepted = client.events.send_batch(payloads, idempotency_key="py-split")
    assert sizes == {"py-split-0": 130, "py-split-0.0": 40, "py-split-0.1": 40, "py-split-0.2": 40, "py-split-0.3": 10}
    stored = inbox_payloads(server_url, customer.api_key)
    assert len(stored) == 130, "the refused 130-event request stored nothing"
    assert [stored[event["event_id"]]["i"] for event in accepted] == list(range(130)), "accepted in input order"


def test_nan_is_refused_before_sending(client: Triggers, customer: Customer, server_url: str) -> None:
    with pytest.raises(ValueError):
        client.events.send({"x": float("nan")})
    assert inbox_payloads(server_url, customer.api_key) == {}
