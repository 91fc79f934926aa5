"""Bulk replay: create, wait, get and cancel against the server, with real deliveries to a local receiver."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, List, Tuple

import pytest

from conftest import FAST_RETRY
from servers import Customer, DroppingProxy, WebhookReceiver
from triggers import AsyncTriggers, Triggers, TriggersError
from triggers.api_types import Replay


def iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def delivered_ids(receiver: WebhookReceiver, path: str) -> List[str]:
    return [event["event_id"] for r in receiver.requests if r.path == path for event in json.loads(r.body)]


def wait_for_deliveries(receiver: WebhookReceiver, path: str, count: int, timeout: float = 15.0) -> List[str]:
    deadline = time.monotonic() + timeout
    while len(ids := delivered_ids(receiver, path)) < count:
        assert time.monotonic() < deadline, f"{len(ids)} of {count} deliveries to {path}"
        time.sleep(0.05)
    return ids


def delivered_once(client: Triggers, receiver: WebhookReceiver, path: str, count: int) -> Tuple[str, List[str]]:
    """A subscription for `order.paid` at `path`, `count` such events (and one other) delivered once; the start of the window."""
    start = iso(datetime.now(timezone.utc) - timedelta(seconds=1))
    client.subscriptions.create(event_selector={"type": "event_type", "value": "order.paid"}, webhook_url=receiver.url(path))
    sent = client.events.send_batch([*({"event_type": "order.paid", "n": n} for n in range(count)), {"event_type": "order.refunded"}])
    wait_for_deliveries(receiver, path, count)
    return start, [e["event_id"] for e in sent[:count]]


def test_create_wait_get_cancel_with_counts_and_an_idempotent_create(client: Triggers, receiver: WebhookReceiver) -> None:
    start, event_ids = delivered_once(client, receiver, "/py-replay", 3)
    end = iso(datetime.now(timezone.utc) + timedelta(minutes=1))
    created = client.replays.create(filter={"start_time": start, "end_time": end, "event_type": "order.paid"}, idempotency_key="py-replay-1")
    assert created["status"] == "running"
    assert created["filter"] == {"start_time": start, "end_time": end, "event_type": "order.paid"}
    again = client.replays.create(filter={"start_time": start, "end_time": end, "event_type": "order.paid"}, idempotency_key="py-replay-1")
    assert again["replay_id"] == created["replay_id"]

    seen: List[Replay] = []
    finished = client.replays.wait(created["replay_id"], interval=0.1, on_progress=seen.append)
    assert finished["status"] == "completed" and seen[-1] == finished
    assert (finished["counts"]["matched"], finished["counts"]["enqueued"]) == (3, 3)
    assert sorted(wait_for_deliveries(receiver, "/py-replay", 6)[3:]) == sorted(event_ids)
    read = client.replays.wait(created["replay_id"], interval=0.1, until="settled")
    assert read["settled"] and read["counts"] == {"matched": 3, "enqueued": 3, "processed": 3, "unmatched": 0, "deliveries": 3, "delivered": 3, "failed": 0}

    client.replays.cancel(created["replay_id"])  # 204
    assert client.replays.get(created["replay_id"])["status"] == "completed", "cancelling a finished job leaves it"
    with pytest.raises(TriggersError) as unknown:
        client.replays.get("00000000-0000-4000-8000-000000000000")
    assert (unknown.value.status, unknown.value.code) == (404, "not_found")


def test_a_range_ending_before_it_starts_is_a_400_with_the_detail(client: Triggers) -> None:
    with pytest.raises(TriggersError) as refused:
        client.replays.create(filter={"start_time": "2026-03-02T00:00:00Z", "end_time": "2026-03-01T00:00:00Z"})
    assert (refused.value.status, refused.value.code) == (400, "invalid_request")
    assert "filter.start_time: must be before end_time" in refused.value.detail


def test_a_create_whose_202_was_lost_is_retried_and_starts_one_job(
    proxy: DroppingProxy, receiver: WebhookReceiver, new_customer_client: Callable[..., Tuple[Triggers, Customer]]
) -> None:
    client, _ = new_customer_client(base_url=proxy.url)
    start, _ = delivered_once(client, receiver, "/py-replay-lost", 2)
    proxy.drop_next_response()
    created = client.replays.create(filter={"start_time": start, "end_time": iso(datetime.now(timezone.utc) + timedelta(minutes=1)), "event_type": "order.paid"})
    assert proxy.dropped.is_set()
    client.replays.wait(created["replay_id"], interval=0.1)
    wait_for_deliveries(receiver, "/py-replay-lost", 4)
    time.sleep(1.5)  # a second job would deliver within this
    assert len(delivered_ids(receiver, "/py-replay-lost")) == 4, "the events were replayed once, not twice"


@pytest.mark.asyncio
async def test_the_async_client_creates_waits_for_and_cancels_a_replay(server_url: str, customer: Customer, receiver: WebhookReceiver) -> None:
    with Triggers(server_url, customer.api_key, retry=FAST_RETRY) as sync:
        start, _ = delivered_once(sync, receiver, "/py-replay-async", 1)
    async with AsyncTriggers(server_url, customer.api_key, retry=FAST_RETRY) as client:
        created = await client.replays.create(filter={"start_time": start, "end_time": iso(datetime.now(timezone.utc) + timedelta(minutes=1)), "status": "delivered"})
        finished = await client.replays.wait(created["replay_id"], interval=0.1)
        assert (finished["status"], finished["counts"]["matched"]) == ("completed", 1)
        await client.replays.cancel(created["replay_id"])
        assert (await client.replays.get(created["replay_id"]))["status"] == "completed"
        with pytest.raises(TriggersError) as refused:
            await client.replays.create(filter={"start_time": start, "end_time": start})
        assert refused.value.status == 400
