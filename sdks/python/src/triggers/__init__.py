"""``triggers``: the Python client for the Triggers API.

Sync ``Triggers`` and async ``AsyncTriggers`` clients on httpx (events, inbox, subscriptions, bulk replays),
``TriggersError`` for every failed call, and ``verify_webhook`` for received webhooks.
"""

from ._calls import MAX_BATCH_EVENTS
from ._retry import RetryPolicy
from .async_client import AsyncEvents, AsyncInbox, AsyncReplays, AsyncSubscriptions, AsyncTriggers
from .client import Events, Inbox, Replays, Subscriptions, Triggers
from .errors import TriggersError, WebhookVerificationError
from .webhooks import DEFAULT_TOLERANCE, sign_webhook, verify_webhook

__version__ = "0.1.0"

__all__ = [
    "AsyncEvents",
    "AsyncInbox",
    "AsyncReplays",
    "AsyncSubscriptions",
    "AsyncTriggers",
    "DEFAULT_TOLERANCE",
    "Events",
    "Inbox",
    "MAX_BATCH_EVENTS",
    "Replays",
    "RetryPolicy",
    "Subscriptions",
    "Triggers",
    "TriggersError",
    "WebhookVerificationError",
    "sign_webhook",
    "verify_webhook",
]
