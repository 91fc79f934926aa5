"""The live event stream (``GET /api/v1/events/stream``, Server-Sent Events) for both clients.

Reconnects by itself with ``Last-Event-ID`` after a dropped connection, a server restart or an
``overflow`` cut (the consumer read too slowly), so across reconnects nothing is missed and nothing
repeated. 429 (too many streams) and 5xx answers before the stream starts are waited out; other
problems (401, a bad selector) raise ``TriggersError``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Dict, Iterable, Iterator, List, Mapping, Optional

import anyio
import httpx

from ._transport import AsyncTransport, Settings, SyncTransport, problem_error
from .api_types import StreamedEvent

#: How long a stream may stay silent before it counts as lost (the server pings every ≤ 15 s).
SILENCE_TIMEOUT = 45.0

OnOpen = Callable[[Optional[str], bool], None]
OnDisconnect = Callable[[str], None]


@dataclass
class ServerSentEvent:
    event: str = "message"
    data: Optional[str] = None
    id: Optional[str] = None
    retry: Optional[int] = None


@dataclass
class _Pending:
    data: List[str] = field(default_factory=list)
    event: Optional[str] = None
    id: Optional[str] = None
    retry: Optional[int] = None


class SseParser:
    """The WHATWG ``text/event-stream`` rules over lines: fields, comments, multi-line data."""

    def __init__(self) -> None:
        self.pending = _Pending()

    def feed(self, line: str) -> Optional[ServerSentEvent]:
        line = line.rstrip("\r\n")
        if line == "":
            done, self.pending = self.pending, _Pending()
            # A message with only an id counts too: the server's first one names where the stream starts.
            if done.data or done.retry is not None or done.id is not None:
                return ServerSentEvent(done.event or "message", "\n".join(done.data) if done.data else None, done.id, done.retry)
            return None
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self.pending.data.append(value)
        elif name == "event":
            self.pending.event = value
        elif name == "id":
            self.pending.id = value
        elif name == "retry" and value.isdigit():
            self.pending.retry = int(value)
        return None


def parse_sse(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    parser = SseParser()
    for line in lines:
        message = parser.feed(line)
        if message is not None:
            yield message


class StreamState:
    """Where the stream is (for Last-Event-ID), how long to wait before reconnecting and why the
    last connection ended: all but the I/O of the sync and async loops."""

    def __init__(
        self,
        settings: Settings,
        query: Mapping[str, Any],
        last_event_id: Optional[str],
        on_open: Optional[OnOpen] = None,
        on_disconnect: Optional[OnDisconnect] = None,
    ) -> None:
        self.settings = settings
        self.last_event_id = last_event_id
        self.on_open = on_open
        self.on_disconnect = on_disconnect
        self.retry_seconds = 1.0
        self.reconnect = False
        self.reason = "the server closed the stream"
        selector = query.get("selector")
        self.params = {
            key: value
            for key, value in {
                "event_type": query.get("event_type"),
                "status": query.get("status"),
                "selector": json.dumps(selector, separators=(",", ":")) if selector is not None else None,
            }.items()
            if value is not None
        }

    def request(self) -> Dict[str, Any]:
        headers = {"authorization": f"Bearer {self.settings.api_key}", "accept": "text/event-stream", "user-agent": self.settings.user_agent}
        if self.last_event_id:
            headers["last-event-id"] = self.last_event_id
        timeout = httpx.Timeout(self.settings.timeout, read=SILENCE_TIMEOUT)
        return {"method": "GET", "url": self.settings.url("/api/v1/events/stream"), "params": self.params, "headers": headers, "timeout": timeout}

    def refused(self, response: httpx.Response) -> float:
        """Seconds to wait after a non-2xx answer; raises the problem when waiting cannot help."""
        error = problem_error(response)
        if response.status_code not in (429, 503) and response.status_code < 500:
            raise error
        if self.on_disconnect:
            self.on_disconnect(str(error))
        self.reconnect = True
        return max(self.retry_seconds, error.retry_after or 0.0)

    def opened(self) -> None:
        self.reason = "the server closed the stream"
        if self.on_open:
            self.on_open(self.last_event_id, self.reconnect)

    def lost(self, error: httpx.TransportError) -> None:
        self.reason = f"connection lost: {error or type(error).__name__}"

    def ended(self) -> float:
        """Seconds to wait before reconnecting, after telling on_disconnect why the stream ended."""
        if self.on_disconnect:
            self.on_disconnect(self.reason)
        self.reconnect = True
        return self.retry_seconds

    def message(self, message: ServerSentEvent) -> Optional[StreamedEvent]:
        """The event a message carries (None for the others), remembering the position."""
        if message.event == "overflow":
            self.reason = "the server cut the stream off (the consumer was too slow)"
        if message.retry is not None:
            self.retry_seconds = message.retry / 1000
        # Every id counts, also the data-less first one naming where the stream started: a client
        # that drops before its first event then resumes from there, not from its reconnect time.
        if message.id:
            self.last_event_id = message.id
        if message.event != "event" or message.data is None:
            return None
        event: StreamedEvent = json.loads(message.data)
        if not message.id:
            self.last_event_id = event["event_id"]
        return event


def stream_sync(transport: SyncTransport, state: StreamState) -> Iterator[StreamedEvent]:
    while True:
        try:
            with transport.client.stream(**state.request()) as response:
                if not response.is_success:
                    response.read()
                    time.sleep(state.refused(response))
                    continue
                state.opened()
                for message in parse_sse(response.iter_lines()):
                    event = state.message(message)
                    if event is not None:
                        yield event
        except httpx.TransportError as error:
            state.lost(error)
        time.sleep(state.ended())


async def stream_async(transport: AsyncTransport, state: StreamState) -> AsyncIterator[StreamedEvent]:
    while True:
        try:
            async with transport.client.stream(**state.request()) as response:
                if not response.is_success:
                    await response.aread()
                    await anyio.sleep(state.refused(response))
                    continue
                state.opened()
                parser = SseParser()
                async for line in response.aiter_lines():
                    message = parser.feed(line)
                    event = state.message(message) if message is not None else None
                    if event is not None:
                        yield event
        except httpx.TransportError as error:
            state.lost(error)
        await anyio.sleep(state.ended())
