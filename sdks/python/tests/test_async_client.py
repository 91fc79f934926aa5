"""AsyncTriggers: the same calls and the same retry and idempotency behaviour as the sync client."""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List, cast

import httpx
import pytest

from conftest import FAST_RETRY
from servers import Admin, Customer, DroppingProxy, WebhookReceiver, inbox_payloads
from triggers import AsyncTriggers, RetryPolicy, TriggersError, verify_webhook

pytestmark = pytest.mark.asyncio


async def test_send_then_get(server_url: str, customer: Customer) -> None:
    async with AsyncTriggers(server_url, customer.api_key, retry=FAST_RETRY) as client:
        accepted = await client.events.send({"event_type": "order.created", "order_id": 1})
        event = await client.events.get(accepted["event_id"])
    assert event["payload"] == {"event_type": "order.created", "order_id": 1}
    assert event["customer_id"] == customer.customer_id


async def test_send_retried_after_the_answer_was_lost_creates_one_event(proxy: DroppingProxy, customer: Customer, server_url: str) -> None:
    async with AsyncTriggers(proxy.url, customer.api_key, retry=FAST_RETRY) as client:
        proxy.drop_next_response()
        accepted = await client.events.send({"n": "once"})
    assert proxy.dropped.is_set()
    assert inbox_payloads(server_url, customer.api_key) == {accepted["event_id"]: {"n": "once"}}


async def test_iterate_follows_cursors_once_each_while_events_arrive(server_url: str, customer: Customer) -> None:
    async with AsyncTriggers(server_url, customer.api_key, retry=FAST_RETRY) as client:
        seeded = {e["event_id"] for e in await client.events.send_batch([{"i": i} for i in range(60)])}
        seen: List[str] = []
        async for event in client.inbox.iterate(limit=7):
            seen.append(event["event_id"])
            if len(seen) % 7 == 1:
                await client.events.send({"late": len(seen)})
    assert len(seen) == len(set(seen))
    assert seeded <= set(seen)


async def test_send_batch_splits_at_500(admin: Admin, server_url: str) -> None:
    customer = admin.create_customer()
    sizes: Dict[str, int] = {}  # by idempotency key: a retried request (after a 429) repeats its key

    async def record(request: httpx.Request) -> None:
        sizes.setdefault(request.headers["idempotency-key"], len(json.loads(request.content)["events"]))

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        async with AsyncTriggers(server_url, customer.api_key, retry=FAST_RETRY, http_client=http) as client:
            accepted = await client.events.send_batch([{"i": i} for i in range(1001)])
    assert list(sizes.values()) == [500, 500, 1]
    stored = inbox_payloads(server_url, customer.api_key)
    assert [stored[e["event_id"]]["i"] for e in accepted] == list(range(1001))


async def test_problem_errors(server_url: str, customer: Customer) -> None:
    async with AsyncTriggers(server_url, customer.api_key, retry=FAST_RETRY) as client:
        with pytest.raises(TriggersError) as caught:
            await client.events.send(cast(Any, "not an object"))
        with pytest.raises(TriggersError) as missing:
            await client.subscriptions.get("01900000-0000-7000-8000-000000000000")
    assert (caught.value.code, caught.value.status) == ("invalid_request", 400)
    assert caught.value.request_id
    assert (missing.value.code, missing.value.status) == ("not_found", 404)


async def test_a_429_is_waited_out(admin: Admin, server_url: str) -> None:
    customer = admin.create_customer()
    admin.set_rate_limit(customer.customer_id, 1)
    time.sleep(1.1)
    async with AsyncTriggers(server_url, customer.api_key, retry=RetryPolicy(max_retries=3, base_delay=0.05)) as client:
        await client.events.send({"n": 1})
        started = time.monotonic()
        await client.events.send({"n": 2})
    assert time.monotonic() - started >= 0.5
    assert len(inbox_payloads(server_url, customer.api_key)) == 2


async def test_subscriptions_and_a_verified_webhook(server_url: str, customer: Customer, receiver: WebhookReceiver) -> None:
    async with AsyncTriggers(server_url, customer.api_key, retry=FAST_RETRY) as client:
        created = await client.subscriptions.create(event_selector={"type": "event_type", "value": "async.ping"}, webhook_url=receiver.url("/async"))
        assert [s["workflow_id"] async for s in client.subscriptions.iterate()] == [created["workflow_id"]]
        accepted = await client.events.send({"event_type": "async.ping"})
        [request] = receiver.wait_for("/async", 1)
        assert verify_webhook(request.body, request.headers, created["secret"])[0]["event_id"] == accepted["event_id"]
        rotated = await client.subscriptions.rotate_secret(created["workflow_id"])
        assert rotated["secret"] != created["secret"]
        assert (await client.subscriptions.disable(created["workflow_id"]))["status"] == "disabled"
        await client.subscriptions.delete(created["workflow_id"])
        assert (await client.subscriptions.list())["subscriptions"] == []
