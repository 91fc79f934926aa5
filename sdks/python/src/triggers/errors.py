"""The errors the SDK raises."""

from __future__ import annotations

from typing import Any, List, Mapping, Optional

#: Codes the SDK itself uses when no problem document came back (status 0).
CLIENT_ERROR_CODES = ("network_error", "timeout", "invalid_response")


class TriggersError(Exception):
    """Every failed call: an RFC 9457 problem from the server, or a client-side failure.

    From the server: ``code`` (a stable word from the API's closed list, e.g. ``rate_limited``),
    ``status``, ``detail``, ``title``, ``type``, ``errors`` (a batch's per-item errors),
    ``request_id`` (the ``X-Request-Id`` answer header; quote it when asking for help) and
    ``problem`` (the whole document). Client-side: ``status`` 0 and ``code`` one of
    ``network_error``, ``timeout``, ``invalid_response``.
    """

    def __init__(
        self,
        *,
        code: str,
        status: int,
        detail: str,
        request_id: Optional[str] = None,
        problem: Optional[Mapping[str, Any]] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(f"{f'{status} ' if status else ''}{code}: {detail}")
        self.code = code
        self.status = status
        self.detail = detail
        self.request_id = request_id
        #: The whole problem document when the server sent one.
        self.problem: Optional[Mapping[str, Any]] = problem
        #: Seconds the server asked to wait (``Retry-After``), when it did.
        self.retry_after = retry_after
        #: ``send_batch`` only: the events of the requests accepted before this one failed.
        self.accepted_so_far: List[Any] = []

    @property
    def type(self) -> Optional[str]:
        """RFC 9457 ``type`` (a URI naming the kind of problem)."""
        return self._field("type")

    @property
    def title(self) -> Optional[str]:
        """RFC 9457 ``title`` (a short summary of the kind of problem)."""
        return self._field("title")

    @property
    def instance(self) -> Optional[str]:
        """RFC 9457 ``instance``, when the server sent one."""
        return self._field("instance")

    @property
    def errors(self) -> List[Mapping[str, Any]]:
        """A batch's per-item errors: ``[{"index", "detail"}]`` (empty otherwise)."""
        errors = self.problem.get("errors") if self.problem else None
        return list(errors) if isinstance(errors, list) else []

    def _field(self, name: str) -> Optional[str]:
        value = self.problem.get(name) if self.problem else None
        return value if isinstance(value, str) else None


class WebhookVerificationError(Exception):
    """A webhook whose headers, timestamp or signature do not check out."""
