"""Fixtures: the all-in-one under test comes from the environment (the mocha wrapper
sdks/python/python-sdk.test.ts starts one and sets these); without it the tests that need it skip.

    TRIGGERS_URL            the server's base URL
    TRIGGERS_ADMIN_TOKEN    its admin token (each test makes customers of its own)
    TRIGGERS_API_KEY        a customer's API key (the clients' default from the environment)
"""

from __future__ import annotations

import os
from typing import Callable, Iterator, Tuple
from urllib.parse import urlsplit

import pytest

from servers import Admin, Customer, DroppingProxy, SilentServer, WebhookReceiver
from triggers import RetryPolicy, Triggers

#: Short waits between retries so the suite stays quick; Retry-After is still honoured in full.
FAST_RETRY = RetryPolicy(max_retries=3, base_delay=0.05, max_delay=5.0)


@pytest.fixture(scope="session")
def server_url() -> str:
    url = os.environ.get("TRIGGERS_URL")
    if not url or not os.environ.get("TRIGGERS_ADMIN_TOKEN"):
        pytest.skip("TRIGGERS_URL and TRIGGERS_ADMIN_TOKEN are not set: run through sdks/python/python-sdk.test.ts (npm test -- sdks/python/python-sdk.test.ts)")
    return url.rstrip("/")


@pytest.fixture(scope="session")
def admin(server_url: str) -> Iterator[Admin]:
    admin = Admin(server_url, os.environ["TRIGGERS_ADMIN_TOKEN"])
    yield admin
    admin.close()


@pytest.fixture
def customer(admin: Admin) -> Customer:
    return admin.create_customer()


@pytest.fixture
def client(server_url: str, customer: Customer) -> Iterator[Triggers]:
    with Triggers(server_url, customer.api_key, retry=FAST_RETRY) as client:
        yield client


@pytest.fixture(scope="session")
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def proxy(server_url: str) -> Iterator[DroppingProxy]:
    parts = urlsplit(server_url)
    proxy = DroppingProxy((parts.hostname or "127.0.0.1", parts.port or 80))
    yield proxy
    proxy.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def new_customer_client(server_url: str, admin: Admin) -> Iterator[Callable[..., Tuple[Triggers, Customer]]]:
    """Makes clients for fresh customers (options as Triggers takes them); closes them after the test."""
    made = []

    def make(**options: object) -> Tuple[Triggers, Customer]:
        customer = admin.create_customer()
        options.setdefault("retry", FAST_RETRY)
        base_url = str(options.pop("base_url", server_url))
        client = Triggers(base_url, customer.api_key, **options)  # type: ignore[arg-type]
        made.append(client)
        return client, customer

    yield make
    for client in made:
        client.close()
