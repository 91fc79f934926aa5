"""events.stream: live events over Server-Sent Events, resumed across a cut connection."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Callable, List, Optional, Tuple

import pytest

from conftest import FAST_RETRY
from servers import Customer, DroppingProxy
from triggers import AsyncTriggers, Triggers, TriggersError
from triggers._stream import parse_sse


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


class StreamConsumer:
    """Reads ``events.stream(event_type=...)`` on a thread of its own until it has ``count`` events,
    keeping what arrives and what ``on_open`` and ``on_disconnect`` say; an error lands in ``failure``
    (the test asserts it is empty)."""

    def __init__(self, url: str, api_key: str, event_type: str, count: int) -> None:
        self.received: List[str] = []
        self.opens: List[Tuple[Optional[str], bool]] = []
        self.disconnects: List[str] = []
        self.failure: List[BaseException] = []
        self.thread = threading.Thread(target=self.consume, args=(url, api_key, event_type, count), daemon=True)
        self.thread.start()

    def consume(self, url: str, api_key: str, event_type: str, count: int) -> None:
        try:
            with Triggers(url, api_key, retry=FAST_RETRY) as reader:
                for event in reader.events.stream(event_type=event_type, on_open=lambda last, again: self.opens.append((last, again)), on_disconnect=self.disconnects.append):
                    self.received.append(event["event_id"])
                    if len(self.received) == count:
                        return
        except BaseException as error:  # reported by the test
            self.failure.append(error)


def test_the_parser_follows_the_event_stream_rules() -> None:
    lines = ["retry: 500", "id: 0", ": connected", "", "id: 1", "event: event", "data: {\"a\":", "data: 1}", "", "data:x", "", "event: overflow", "data: {}", "", "id: 5", ""]
    messages = list(parse_sse(lines))
    assert [(m.event, m.data, m.id, m.retry) for m in messages] == [
        ("message", None, "0", 500),
        ("event", '{"a":\n1}', "1", None),
        ("message", "x", None, None),
        ("overflow", "{}", None, None),
        ("message", None, "5", None),
    ]


def test_the_stream_resumes_after_a_cut_connection_without_gap_or_duplicate(proxy: DroppingProxy, customer: Customer, server_url: str) -> None:
    consumer = StreamConsumer(proxy.url, customer.api_key, "streamed", 20)
    wait_until(lambda: len(consumer.opens) == 1)
    with Triggers(server_url, customer.api_key, retry=FAST_RETRY) as client:
        client.events.send({"event_type": "other"})  # filtered out
        sent = [client.events.send({"event_type": "streamed", "n": n})["event_id"] for n in range(10)]
        wait_until(lambda: len(consumer.received) >= 10 or bool(consumer.failure))
        proxy.cut()
        sent += [client.events.send({"event_type": "streamed", "n": n})["event_id"] for n in range(10, 20)]
        consumer.thread.join(30)
    assert not consumer.failure, consumer.failure
    assert consumer.received == sent, "every event once, in order, across the reconnect"
    opens = consumer.opens
    assert len(opens) >= 2 and opens[0] == (None, False) and opens[1] == (sent[9], True), opens
    assert consumer.disconnects and consumer.disconnects[0].startswith("connection lost")


def test_a_stream_cut_before_its_first_event_misses_nothing(proxy: DroppingProxy, customer: Customer, server_url: str) -> None:
    """The stream's first message names its starting position: events accepted while the client
    was away, before it ever got one, still arrive after the reconnect."""
    consumer = StreamConsumer(proxy.url, customer.api_key, "early", 3)
    wait_until(lambda: len(consumer.opens) == 1)
    time.sleep(0.3)  # the first message (the position) has arrived
    proxy.cut()
    wait_until(lambda: len(consumer.disconnects) == 1)
    with Triggers(server_url, customer.api_key, retry=FAST_RETRY) as client:
        # Sent while the client waits out the server's 1 s retry delay, disconnected.
        sent = [client.events.send({"event_type": "early", "n": n})["event_id"] for n in range(3)]
    consumer.thread.join(30)
    assert not consumer.failure, consumer.failure
    opens = consumer.opens
    assert len(opens) >= 2 and opens[1][0] is not None and opens[1][1] is True, opens
    assert opens[1][0] not in sent, "it resumed from the stream's starting position"
    assert consumer.received == sent


def test_a_bad_selector_raises_instead_of_reconnecting(client: Triggers) -> None:
    with pytest.raises(TriggersError) as caught:
        next(iter(client.events.stream(selector={"type": "jsonpath", "expression": "$.a ==="})))
    assert caught.value.status == 400


@pytest.mark.asyncio
async def test_the_async_stream_resumes_from_last_event_id(customer: Customer, server_url: str) -> None:
    async with AsyncTriggers(server_url, customer.api_key, retry=FAST_RETRY) as client:
        first = await client.events.send({"event_type": "a.stream", "n": 0})
        rest = [(await client.events.send({"event_type": "a.stream", "n": n}))["event_id"] for n in range(1, 6)]
        got: List[str] = []
        last: Optional[str] = first["event_id"]

        async def read() -> None:
            async for event in client.events.stream(event_type="a.stream", last_event_id=last):
                got.append(event["event_id"])
                if len(got) == len(rest):
                    return

        await asyncio.wait_for(read(), 15)
    assert got == rest, "the backlog after the given event, in order"
