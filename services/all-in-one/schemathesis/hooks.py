"""Schemathesis hooks for the Triggers run (schemathesis.toml beside this file loads this module).

`positive_data_acceptance` is replaced by `positive_data_acceptance_beyond_schema`: the same check
(a request valid by the document must not be refused), except for the refusals listed in
BEYOND_SCHEMA. Each is a rule JSON Schema cannot state; the server answers it with a problem the
list names exactly (status, code and, where the code is shared, the detail), so any other refusal
of a schema-valid request still fails the run.
"""

import json

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

# (status, code, detail prefix or None, why the document cannot say it)
BEYOND_SCHEMA = [
    (400, "invalid_selector", None,
     "The selector language: JSONPath grammar (RFC 9535 queries with && || ! and parentheses), the RE2 "
     "regex dialect of `matches`, which operators take a `value`, nesting and node limits. The document "
     "states the selector's shape; the compiler (packages/core/src/domain/selectors) is the authority on "
     "the language, tested in compile.test.ts and jsonpath-selector.test.ts."),
    (400, "invalid_request", "cursor is not valid",
     "A cursor is an opaque token that only the server issues (the `cursor` of a previous page); a "
     "generated string is not one."),
    (400, "invalid_request", "start_time: must be before end_time",
     "A rule between two parameters (start_time < end_time), which JSON Schema cannot compare."),
    (400, "invalid_request", "filter.start_time: must be before end_time",
     "The same rule inside a bulk replay's filter (POST /api/v1/replays): JSON Schema cannot compare "
     "two string properties as times."),
    (400, "invalid_webhook_url", "webhook_url points to a forbidden address",
     "The SSRF policy: which IP addresses a webhook may name depends on TRIGGERS_SSRF_ALLOW, and some "
     "(unspecified, multicast, broadcast, cloud metadata) are always refused; the document states the "
     "URL's syntax."),
    (400, "invalid_request", "filter.workflow_id: no such subscription",
     "State, not syntax: a bulk replay's filter may name only one of the customer's own subscriptions; "
     "a generated UUID names none."),
    (413, "payload_too_large", "This request has",
     "State, not syntax: how many events one request may carry is the customer's burst (its rate limit), "
     "which PATCH /admin/customers/{customer_id} changes at run time (the stateful phase reaches the "
     "demo customer through /demo/state's customer_id)."),
    (422, "idempotency_key_reused", None,
     "State, not syntax: the generator sends the same Idempotency-Key with different bodies, which "
     "API.md answers with 422 (the first body was stored under that key)."),
]

DEFAULT_EXPECTED = {401, 403, 404, 409, 429}


def beyond_schema(status, problem):
    if not isinstance(problem, dict):
        return False
    for expected_status, code, detail, _reason in BEYOND_SCHEMA:
        if status != expected_status or problem.get("code") != code:
            continue
        if detail is None or str(problem.get("detail", "")).startswith(detail):
            return True
    return False


@schemathesis.check
def positive_data_acceptance_beyond_schema(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if 200 <= status < 400 or status >= 500 or status in DEFAULT_EXPECTED:
        return None
    try:
        problem = json.loads(response.content)
    except (ValueError, TypeError):
        problem = None
    if beyond_schema(status, problem):
        return None
    raise RejectedPositiveData(
        operation=case.operation.label,
        message="Valid data should have been accepted (beyond the rules listed in hooks.py BEYOND_SCHEMA)",
        status_code=status,
        allowed_statuses=["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"],
    )
