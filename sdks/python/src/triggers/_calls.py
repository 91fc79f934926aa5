"""The API's operations as HTTP calls, shared by the sync and the async resources."""

from __future__ import annotations

import uuid
from typing import Any, Callable, List, Mapping, Optional, Sequence
from urllib.parse import quote

from ._transport import Call
from .errors import TriggersError

#: The API's batch limit: ``send_batch`` splits longer lists into requests of this many events.
MAX_BATCH_EVENTS = 500


def new_idempotency_key() -> str:
    return f"sdk-{uuid.uuid4()}"


def segment(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("an id must be a non-empty string")
    return quote(value, safe="")


def send_event(payload: Mapping[str, Any], idempotency_key: Optional[str]) -> Call:
    # One key per call, the same on every retry: a send repeated after a lost answer is replayed
    # by the server (same event_id), never stored twice.
    key = idempotency_key or new_idempotency_key()
    return Call("POST", "/api/v1/events", body={"payload": payload}, headers={"idempotency-key": key}, idempotent=True)


def batch_chunks(payloads: Sequence[Mapping[str, Any]], idempotency_key: Optional[str]) -> "list[Call]":
    """One call per ≤ 500 payloads, each with its own key (``<key>-<n>`` when a key is given)."""
    calls = []
    for n, start in enumerate(range(0, len(payloads), MAX_BATCH_EVENTS)):
        chunk = payloads[start : start + MAX_BATCH_EVENTS]
        key = f"{idempotency_key}-{n}" if idempotency_key else new_idempotency_key()
        body = {"events": [{"payload": payload} for payload in chunk]}
        calls.append(Call("POST", "/api/v1/events/batch", body=body, headers={"idempotency-key": key}, idempotent=True))
    return calls


def burst_split(call: Call, error: TriggersError) -> "Optional[list[Call]]":
    """The requests to send instead of a batch ``call`` the server refused as larger than the
    customer's burst (``413 payload_too_large``, which stores nothing): requests of the
    ``max_events`` it names, keyed ``<key>.<m>``. None for any other failure."""
    max_events = (error.problem or {}).get("max_events")
    events = call.body["events"] if isinstance(call.body, dict) else None
    if error.status != 413 or error.code != "payload_too_large" or events is None:
        return None
    if isinstance(max_events, bool) or not isinstance(max_events, int) or not 1 <= max_events < len(events):
        return None
    key = call.headers["idempotency-key"]
    return [
        Call("POST", "/api/v1/events/batch", body={"events": events[start : start + max_events]}, headers={"idempotency-key": f"{key}.{m}"}, idempotent=True)
        for m, start in enumerate(range(0, len(events), max_events))
    ]


def get_event(event_id: str) -> Call:
    return Call("GET", f"/api/v1/events/{segment(event_id)}")


def replay_event(event_id: str) -> Call:
    return Call("POST", f"/api/v1/events/{segment(event_id)}/replay", idempotent=False)


def list_inbox(query: Mapping[str, Any]) -> Call:
    return Call("GET", "/api/v1/inbox", query=dict(query))


def create_subscription(body: Mapping[str, Any]) -> Call:
    return Call("POST", "/api/v1/subscriptions", body=dict(body), idempotent=False)


def list_subscriptions(query: Mapping[str, Any]) -> Call:
    return Call("GET", "/api/v1/subscriptions", query=dict(query))


def get_subscription(workflow_id: str) -> Call:
    return Call("GET", f"/api/v1/subscriptions/{segment(workflow_id)}")


def update_subscription(workflow_id: str, patch: Mapping[str, Any]) -> Call:
    # The same patch twice leaves the same state: safe to repeat after a lost answer.
    return Call("PATCH", f"/api/v1/subscriptions/{segment(workflow_id)}", body=dict(patch))


def delete_subscription(workflow_id: str) -> Call:
    return Call("DELETE", f"/api/v1/subscriptions/{segment(workflow_id)}")


def rotate_secret(workflow_id: str) -> Call:
    return Call("POST", f"/api/v1/subscriptions/{segment(workflow_id)}/rotate-secret", idempotent=False)


def create_replay(filter: Mapping[str, Any], idempotency_key: Optional[str]) -> Call:
    # As for a send: one key per call, the same on every retry, so a create repeated after a lost
    # answer gets the first job back instead of starting a second one.
    key = idempotency_key or new_idempotency_key()
    return Call("POST", "/api/v1/replays", body={"filter": dict(filter)}, headers={"idempotency-key": key}, idempotent=True)


def get_replay(replay_id: str) -> Call:
    return Call("GET", f"/api/v1/replays/{segment(replay_id)}")


def cancel_replay(replay_id: str) -> Call:
    return Call("DELETE", f"/api/v1/replays/{segment(replay_id)}")


def next_cursor(page: Mapping[str, Any]) -> Optional[str]:
    cursor = page.get("cursor")
    return cursor if page.get("has_more") and isinstance(cursor, str) and cursor else None


class Pages:
    """A walk through a listing by its cursors, for the sync and async ``iterate``: the call for
    each page, until a page says there is no more."""

    def __init__(self, list_call: Callable[[Mapping[str, Any]], Call], query: Mapping[str, Any], items: str) -> None:
        self.list_call = list_call
        self.query = query
        self.items = items
        self.cursor: Optional[str] = None
        self.done = False

    def next_call(self) -> Optional[Call]:
        return None if self.done else self.list_call({**self.query, "cursor": self.cursor})

    def items_of(self, page: Mapping[str, Any]) -> List[Any]:
        self.cursor = next_cursor(page)
        self.done = self.cursor is None
        return list(page[self.items])


def inbox_pages(query: Mapping[str, Any]) -> Pages:
    return Pages(list_inbox, query, "events")


def subscription_pages(query: Mapping[str, Any]) -> Pages:
    return Pages(list_subscriptions, query, "subscriptions")
