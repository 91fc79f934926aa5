"""One HTTP exchange with retries, timeouts and problem errors, for the sync and the async client."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Union

import anyio
import httpx

from ._retry import RetryPolicy, parse_retry_after, retry_delay
from .errors import TriggersError

DEFAULT_TIMEOUT = 30.0
USER_AGENT = "triggers-sdk-python/0.1.0"

QueryValue = Union[str, int, float, bool, None]


@dataclass
class Call:
    method: str
    path: str
    query: Mapping[str, QueryValue] = field(default_factory=dict)
    body: Any = None
    headers: Dict[str, str] = field(default_factory=dict)
    #: Whether repeating the request after a lost answer cannot do anything twice (reads, deletes,
    #: PATCHes, POSTs carrying an Idempotency-Key). Others are retried only when the request
    #: never left (connection refused) or an answer says nothing was done (429, 503).
    idempotent: bool = True


class Settings:
    """What both clients share: where, who, how long, how often."""

    def __init__(
        self,
        base_url: Optional[str],
        api_key: Optional[str],
        timeout: float,
        retry: Optional[RetryPolicy],
        user_agent: Optional[str],
    ) -> None:
        base_url = base_url or os.environ.get("TRIGGERS_URL")
        api_key = api_key or os.environ.get("TRIGGERS_API_KEY")
        if not base_url:
            raise ValueError("base_url is required (or set TRIGGERS_URL)")
        if not api_key:
            raise ValueError("api_key is required (or set TRIGGERS_API_KEY)")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.user_agent = user_agent or USER_AGENT

    def url(self, path: str) -> str:
        return self.base_url + path

    def headers(self, call: Call) -> Dict[str, str]:
        headers = {"authorization": f"Bearer {self.api_key}", "accept": "application/json", "user-agent": self.user_agent}
        if call.body is not None:
            headers["content-type"] = "application/json"
        headers.update(call.headers)
        return headers

    def build(self, call: Call) -> Dict[str, Any]:
        """The keyword arguments of ``httpx.Client.request`` for a call."""
        content = None
        if call.body is not None:
            # NaN and infinities are not JSON: refused here rather than sent as `NaN`.
            content = json.dumps(call.body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
        query = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in call.query.items() if v is not None}
        return {"method": call.method, "url": self.url(call.path), "params": query, "content": content, "headers": self.headers(call)}


def transport_error(error: httpx.TransportError, timeout: float, call: Call) -> "tuple[TriggersError, bool]":
    """The error a failed exchange stands for, and whether trying again is safe."""
    if isinstance(error, httpx.TimeoutException):
        triggers_error = TriggersError(code="timeout", status=0, detail=f"No answer within {timeout:g} s ({type(error).__name__}).")
    else:
        triggers_error = TriggersError(code="network_error", status=0, detail=f"The request failed: {error or type(error).__name__}")
    triggers_error.__cause__ = error
    # A request that never reached the server (no connection made) cannot have done anything.
    never_sent = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    return triggers_error, call.idempotent or never_sent


def problem_error(response: httpx.Response) -> TriggersError:
    """The error a non-2xx answer stands for: its problem document when it has one."""
    problem: Optional[Dict[str, Any]] = None
    try:
        parsed = json.loads(response.content)
        if isinstance(parsed, dict) and isinstance(parsed.get("code"), str):
            problem = parsed
    except ValueError:
        pass  # Not a problem document (a proxy's HTML page): described by its status below.
    text = response.content[:200].decode("utf-8", "replace")
    return TriggersError(
        code=problem["code"] if problem else status_code(response.status_code),
        status=response.status_code,
        detail=str(problem.get("detail", "")) if problem else f"HTTP {response.status_code}{': ' + text if text else ''}",
        request_id=response.headers.get("x-request-id"),
        problem=problem,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def status_code(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status == 401:
        return "unauthorized"
    if status == 404:
        return "not_found"
    if status >= 500:
        return "unavailable" if status in (502, 503, 504) else "internal_error"
    return "invalid_request"


def retryable(response: httpx.Response, error: TriggersError, call: Call) -> bool:
    """429 and 503 say nothing was done; the others only repeat safely with an idempotency key."""
    if response.status_code in (429, 503):
        return True
    return call.idempotent and (error.code == "idempotency_key_in_progress" or response.status_code in (502, 504))


def parse_json(response: httpx.Response) -> Any:
    if response.status_code == 204:
        return None
    try:
        return json.loads(response.content)
    except ValueError as cause:
        error = TriggersError(code="invalid_response", status=response.status_code, detail="The response is not JSON.", request_id=response.headers.get("x-request-id"))
        raise error from cause


class Attempts:
    """One call's attempts, shared by the sync and async send loops: what each attempt sends, and
    after each, whether to stop (with the answer or an error) or how long to wait before the next."""

    def __init__(self, settings: Settings, call: Call, timeout: Optional[float]) -> None:
        self.call = call
        self.seconds = settings.timeout if timeout is None else timeout
        self.timeout = httpx.Timeout(self.seconds)
        self.arguments = settings.build(call)
        self.policy = settings.retry
        self.attempt = 0

    def after(self, outcome: Union[httpx.Response, httpx.TransportError]) -> Union[httpx.Response, float]:
        """The 2xx answer, or the seconds to wait before trying again; raises TriggersError when
        there is to be no further attempt."""
        if isinstance(outcome, httpx.TransportError):
            error, again = transport_error(outcome, self.seconds, self.call)
            if not again:
                raise error from outcome
        else:
            if outcome.is_success:
                return outcome
            error = problem_error(outcome)
            if not retryable(outcome, error, self.call):
                raise error
        if self.attempt >= self.policy.max_retries:
            raise error
        self.attempt += 1
        return retry_delay(self.attempt, self.policy, error.retry_after)


class SyncTransport:
    def __init__(self, settings: Settings, http_client: Optional[httpx.Client]) -> None:
        self.settings = settings
        self.owns_client = http_client is None
        self.client = http_client or httpx.Client()

    def request(self, call: Call, timeout: Optional[float] = None) -> Any:
        return parse_json(self.send(call, timeout))

    def send(self, call: Call, timeout: Optional[float] = None) -> httpx.Response:
        """A 2xx answer, after retries; anything else raises TriggersError."""
        attempts = Attempts(self.settings, call, timeout)
        while True:
            try:
                outcome: Union[httpx.Response, httpx.TransportError] = self.client.request(**attempts.arguments, timeout=attempts.timeout)
            except httpx.TransportError as thrown:
                outcome = thrown
            wait = attempts.after(outcome)
            if isinstance(wait, httpx.Response):
                return wait
            time.sleep(wait)

    def close(self) -> None:
        if self.owns_client:
            self.client.close()


class AsyncTransport:
    def __init__(self, settings: Settings, http_client: Optional[httpx.AsyncClient]) -> None:
        self.settings = settings
        self.owns_client = http_client is None
        self.client = http_client or httpx.AsyncClient()

    async def request(self, call: Call, timeout: Optional[float] = None) -> Any:
        return parse_json(await self.send(call, timeout))

    async def send(self, call: Call, timeout: Optional[float] = None) -> httpx.Response:
        """A 2xx answer, after retries; anything else raises TriggersError."""
        attempts = Attempts(self.settings, call, timeout)
        while True:
            try:
                outcome: Union[httpx.Response, httpx.TransportError] = await self.client.request(**attempts.arguments, timeout=attempts.timeout)
            except httpx.TransportError as thrown:
                outcome = thrown
            wait = attempts.after(outcome)
            if isinstance(wait, httpx.Response):
                return wait
            await anyio.sleep(wait)

    async def aclose(self) -> None:
        if self.owns_client:
            await self.client.aclose()
