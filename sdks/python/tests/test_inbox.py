"""inbox.list and the iterator that follows cursors."""

from __future__ import annotations

from typing import List

from servers import Customer
from triggers import Triggers


def test_list_filters_and_pages(client: Triggers) -> None:
    client.events.send_batch([{"event_type": "a", "i": i} for i in range(5)] + [{"event_type": "b"}])
    page = client.inbox.list(event_type="a", limit=2)
    assert page["total"] == 2 and page["has_more"] is True and page["cursor"]
    assert all(event["payload"]["event_type"] == "a" for event in page["events"])
    rest = client.inbox.list(event_type="a", limit=10, cursor=page["cursor"])
    assert rest["has_more"] is False and rest["cursor"] is None
    assert len(page["events"]) + len(rest["events"]) == 5
    assert [e["payload"]["i"] for e in page["events"] + rest["events"]] == [4, 3, 2, 1, 0], "newest first"


def test_iterate_visits_every_event_once_while_new_ones_arrive(client: Triggers, customer: Customer) -> None:
    seeded = [e["event_id"] for e in client.events.send_batch([{"i": i} for i in range(240)])]
    seen: List[str] = []
    arrivals = 0
    for event in client.inbox.iterate(limit=25):
        seen.append(event["event_id"])
        if len(seen) % 25 == 1:
            # New events land between pages, newer than every page still to come.
            client.events.send_batch([{"late": arrivals}, {"late": arrivals + 1}])
            arrivals += 2
    assert len(set(seen)) == len(seen), "no event twice"
    assert sorted(i for i in seen if i in set(seeded)) == sorted(seeded), "every seeded event"
    assert arrivals >= 18, f"{arrivals} events arrived during the walk"


def test_iterate_of_an_empty_inbox_yields_nothing(client: Triggers) -> None:
    assert list(client.inbox.iterate()) == []
