"""The synchronous client."""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator, List, Mapping, Optional, Sequence, cast

import httpx
from typing_extensions import Literal, Unpack

from . import _calls as calls
from ._retry import RetryPolicy
from ._stream import OnDisconnect, OnOpen, StreamState, stream_sync
from ._transport import DEFAULT_TIMEOUT, Settings, SyncTransport
from .api_types import (
    EventSelector,
    AcceptedEvent,
    BatchAcceptedEvent,
    EventWithAttempts,
    InboxEvent,
    InboxPage,
    InboxQuery,
    Replay,
    ReplayAccepted,
    ReplayFilter,
    RotatedSecret,
    Subscription,
    SubscriptionCreateBody,
    SubscriptionListQuery,
    SubscriptionPage,
    SubscriptionUpdateBody,
    StreamedEvent,
    SubscriptionWithSecret,
)
from .errors import TriggersError


class Triggers:
    """A client for one customer's API key.

    >>> with Triggers("http://localhost:8080", api_key="sk_test_...") as triggers:
    ...     accepted = triggers.events.send({"event_type": "order.created", "order_id": 42})

    ``base_url`` and ``api_key`` default to ``TRIGGERS_URL`` and ``TRIGGERS_API_KEY``. ``timeout``
    is per attempt, in seconds. ``http_client`` lends an ``httpx.Client`` of your own (proxies,
    certificates); the client then leaves closing it to you.
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: Optional[RetryPolicy] = None,
        user_agent: Optional[str] = None,
        http_client: Optional[httpx.Client] = None,
    ) -> None:
        self._transport = SyncTransport(Settings(base_url, api_key, timeout, retry, user_agent), http_client)
        self.events = Events(self._transport)
        self.inbox = Inbox(self._transport)
        self.subscriptions = Subscriptions(self._transport)
        self.replays = Replays(self._transport)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "Triggers":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Events:
    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    def send(self, payload: Mapping[str, Any], *, idempotency_key: Optional[str] = None, timeout: Optional[float] = None) -> AcceptedEvent:
        """``POST /api/v1/events``: stores one event (202).

        Retried safely: every attempt carries the same ``Idempotency-Key`` (one is made per call
        when you pass none; pass your own to make your retries safe across processes).
        """
        return cast(AcceptedEvent, self._transport.request(calls.send_event(payload, idempotency_key), timeout))

    def send_batch(self, payloads: Sequence[Mapping[str, Any]], *, idempotency_key: Optional[str] = None, timeout: Optional[float] = None) -> List[BatchAcceptedEvent]:
        """``POST /api/v1/events/batch`` in requests of at most 500 events, one after another.

        A request refused as larger than the customer's burst (``413 payload_too_large``, which
        stores nothing) is sent again split into requests of the ``max_events`` it names, keyed
        ``<request key>.<m>``. Returns the accepted events in input order. A failed request raises ``TriggersError``;
        the requests before it stay accepted (its ``accepted_so_far`` lists them).
        """
        accepted: List[BatchAcceptedEvent] = []
        pending = list(reversed(calls.batch_chunks(payloads, idempotency_key)))
        while pending:
            call = pending.pop()
            try:
                accepted.extend((self._transport.request(call, timeout))["events"])
            except TriggersError as error:
                split = calls.burst_split(call, error)
                if split is not None:
                    pending.extend(reversed(split))
                    continue
                error.accepted_so_far = accepted
                raise
        return accepted

    def get(self, event_id: str, *, timeout: Optional[float] = None) -> EventWithAttempts:
        """``GET /api/v1/events/{id}``: the event and its delivery attempts (oldest first)."""
        return cast(EventWithAttempts, self._transport.request(calls.get_event(event_id), timeout))

    def replay(self, event_id: str, *, timeout: Optional[float] = None) -> ReplayAccepted:
        """``POST /api/v1/events/{id}/replay``: matches the event again and delivers it to what matches now."""
        return cast(ReplayAccepted, self._transport.request(calls.replay_event(event_id), timeout))

    def stream(
        self,
        *,
        event_type: Optional[str] = None,
        status: Optional[str] = None,
        selector: Optional[EventSelector] = None,
        last_event_id: Optional[str] = None,
        on_open: Optional[OnOpen] = None,
        on_disconnect: Optional[OnDisconnect] = None,
    ) -> Iterator[StreamedEvent]:
        """``GET /api/v1/events/stream``: the events as they are accepted, oldest first.

        ``for event in triggers.events.stream(event_type="order.created"):`` runs until you break out of it.
        It reconnects by itself with ``Last-Event-ID`` (nothing missed, nothing repeated); without
        ``last_event_id`` it starts with the events accepted from now on. ``on_open(last_event_id,
        reconnect)`` is called at each (re)connection, ``on_disconnect(reason)`` when one ends.
        """
        query = {"event_type": event_type, "status": status, "selector": selector}
        return stream_sync(self._transport, StreamState(self._transport.settings, query, last_event_id, on_open, on_disconnect))


class Inbox:
    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    def list(self, *, timeout: Optional[float] = None, **query: Unpack[InboxQuery]) -> InboxPage:
        """``GET /api/v1/inbox``: one page, newest first (filters: ``event_type``, ``status``,
        ``start_time``, ``end_time``, ``limit``, ``cursor``)."""
        return cast(InboxPage, self._transport.request(calls.list_inbox(query), timeout))

    def iterate(self, *, timeout: Optional[float] = None, **query: Unpack[InboxQuery]) -> Iterator[InboxEvent]:
        """Every matching event, newest first, following cursors until ``has_more`` is false.

        Each event exactly once, even while new ones arrive (those newer than the first page are
        not included: start again, or use the event stream, to see them).
        """
        walk = calls.inbox_pages(query)
        while (call := walk.next_call()) is not None:
            yield from walk.items_of(self._transport.request(call, timeout))



class Subscriptions:
    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    def create(self, *, timeout: Optional[float] = None, **body: Unpack[SubscriptionCreateBody]) -> SubscriptionWithSecret:
        """``POST /api/v1/subscriptions``; the answer carries the signing ``secret``, shown only here and by ``rotate_secret``."""
        return cast(SubscriptionWithSecret, self._transport.request(calls.create_subscription(body), timeout))

    def list(self, *, timeout: Optional[float] = None, **query: Unpack[SubscriptionListQuery]) -> SubscriptionPage:
        return cast(SubscriptionPage, self._transport.request(calls.list_subscriptions(query), timeout))

    def iterate(self, *, timeout: Optional[float] = None, **query: Unpack[SubscriptionListQuery]) -> Iterator[Subscription]:
        """Every subscription, newest first, following cursors."""
        walk = calls.subscription_pages(query)
        while (call := walk.next_call()) is not None:
            yield from walk.items_of(self._transport.request(call, timeout))

    def get(self, workflow_id: str, *, timeout: Optional[float] = None) -> Subscription:
        return cast(Subscription, self._transport.request(calls.get_subscription(workflow_id), timeout))

    def update(self, workflow_id: str, *, timeout: Optional[float] = None, **patch: Unpack[SubscriptionUpdateBody]) -> Subscription:
        return cast(Subscription, self._transport.request(calls.update_subscription(workflow_id, patch), timeout))

    def disable(self, workflow_id: str, *, timeout: Optional[float] = None) -> Subscription:
        """``status: "disabled"``: it stops matching new events (deliveries in flight finish)."""
        return self.update(workflow_id, timeout=timeout, status="disabled")

    def delete(self, workflow_id: str, *, timeout: Optional[float] = None) -> None:
        self._transport.request(calls.delete_subscription(workflow_id), timeout)

    def rotate_secret(self, workflow_id: str, *, timeout: Optional[float] = None) -> RotatedSecret:
        """A new secret; the previous one keeps signing too for 24 h (both signatures in the header)."""
        return cast(RotatedSecret, self._transport.request(calls.rotate_secret(workflow_id), timeout))


class Replays:
    """Bulk replay: ``/api/v1/replays``."""

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    def create(self, *, filter: ReplayFilter, idempotency_key: Optional[str] = None, timeout: Optional[float] = None) -> Replay:
        """``POST /api/v1/replays``: a durable job that matches every event the filter selects again
        and delivers it to what matches now (``status: "running"``). Follow it with ``get`` or ``wait``.

        Retried safely: every attempt carries the same ``Idempotency-Key`` (one is made per call when
        you pass none); the same key with the same filter answers with the first job.
        """
        return cast(Replay, self._transport.request(calls.create_replay(filter, idempotency_key), timeout))

    def get(self, replay_id: str, *, timeout: Optional[float] = None) -> Replay:
        """``GET /api/v1/replays/{id}``: the job's status and counts (matched, enqueued, delivered, failed)."""
        return cast(Replay, self._transport.request(calls.get_replay(replay_id), timeout))

    def cancel(self, replay_id: str, *, timeout: Optional[float] = None) -> None:
        """``DELETE /api/v1/replays/{id}``: a running job stops at its next page (what it enqueued is
        still delivered); a finished one is left as it is."""
        self._transport.request(calls.cancel_replay(replay_id), timeout)

    def wait(self, replay_id: str, *, interval: float = 1.0, on_progress: Optional[Callable[[Replay], None]] = None, timeout: Optional[float] = None, until: Literal["ended", "settled"] = "ended") -> Replay:
        """Reads the job every ``interval`` seconds until it is no longer ``running`` (or, with
        ``until="settled"``, until it has ``settled``) and returns it.

        ``on_progress`` gets each read, the last one included. Without ``"settled"`` the job's
        deliveries may still be ending: ``delivered + failed`` keeps growing until it reaches ``deliveries``.
        """
        while True:
            replay = self.get(replay_id, timeout=timeout)
            if on_progress is not None:
                on_progress(replay)
            if (replay["settled"] if until == "settled" else replay["status"] != "running"):
                return replay
            time.sleep(interval)
