"""Writes src/triggers/api_types.py from the server's own ``/openapi.json``.

The SDK's request and response types (TypedDicts, Literals) come from the schemas the server's
handlers validate with, never from a copy kept by hand; the list of types is the TypeScript SDK's
(scripts/generate-sdk-types.ts), so both SDKs name the same things alike.

    python scripts/generate_types.py http://localhost:8080     rewrites the file from a running server
    python scripts/generate_types.py --file openapi.json       ... or from a saved document
    tests/test_api_types.py                                    fails while the committed file is stale

Standard library only, so it runs before the SDK is installed.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

GENERATED_FILE = Path(__file__).resolve().parent.parent / "src" / "triggers" / "api_types.py"

Schema = Dict[str, Any]
# A route's response (by status and content type), its request body, or a component.
Where = Union[Tuple[int, str], str, Dict[str, str]]

# (name, method, path, where, part...): `part` walks into the schema (property names, "[]" for items).
TYPES: List[Tuple[Any, ...]] = [
    ("Problem", "", "", {"component": "Problem"}),
    ("SendEventBody", "post", "/api/v1/events", "body"),
    ("EventPayload", "post", "/api/v1/events", "body", "payload"),
    ("AcceptedEvent", "post", "/api/v1/events", (202, "application/json")),
    ("SendBatchBody", "post", "/api/v1/events/batch", "body"),
    ("BatchAcceptedEvent", "post", "/api/v1/events/batch", (202, "application/json"), "events", "[]"),
    ("BatchAccepted", "post", "/api/v1/events/batch", (202, "application/json")),
    ("InboxEvent", "get", "/api/v1/inbox", (200, "application/json"), "events", "[]"),
    ("InboxPage", "get", "/api/v1/inbox", (200, "application/json")),
    ("StreamedEvent", "get", "/api/v1/events/stream", (200, "text/event-stream")),
    ("Attempt", "get", "/api/v1/events/{event_id}", (200, "application/json"), "attempts", "[]"),
    ("EventWithAttempts", "get", "/api/v1/events/{event_id}", (200, "application/json")),
    ("ReplayAccepted", "post", "/api/v1/events/{event_id}/replay", (202, "application/json")),
    ("ReplayFilter", "post", "/api/v1/replays", "body", "filter"),
    ("ReplayCreateBody", "post", "/api/v1/replays", "body"),
    ("Replay", "get", "/api/v1/replays/{replay_id}", (200, "application/json")),
    ("EventSelector", "post", "/api/v1/subscriptions", "body", "event_selector"),
    ("SubscriptionCreateBody", "post", "/api/v1/subscriptions", "body"),
    ("SubscriptionUpdateBody", "patch", "/api/v1/subscriptions/{workflow_id}", "body"),
    ("Subscription", "get", "/api/v1/subscriptions/{workflow_id}", (200, "application/json")),
    ("SubscriptionWithSecret", "post", "/api/v1/subscriptions", (201, "application/json")),
    ("SubscriptionPage", "get", "/api/v1/subscriptions", (200, "application/json")),
    ("RotatedSecret", "post", "/api/v1/subscriptions/{workflow_id}/rotate-secret", (200, "application/json")),
]

# The query parameters of a GET, as a TypedDict of optional keys (the list methods' keyword arguments).
QUERIES: List[Tuple[str, str]] = [
    ("InboxQuery", "/api/v1/inbox"),
    ("StreamQuery", "/api/v1/events/stream"),
    ("SubscriptionListQuery", "/api/v1/subscriptions"),
]

# Response types that are another one plus fields, written as subclasses (checked: every field of
# the base must be in the subtype with the same schema).
EXTENDS: Dict[str, str] = {"EventWithAttempts": "InboxEvent", "SubscriptionWithSecret": "Subscription"}

PRIMITIVES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}


class GenerationError(Exception):
    """The document lacks a schema the SDK needs, or uses a construct this writer does not know."""


class TypeWriter:
    """JSON Schema → Python type expressions, declaring a TypedDict per object as it goes.

    A schema equal to one already declared is written with that name; an object holding all the
    properties of an earlier top-level object (same schemas, same required-ness) extends it.
    """

    def __init__(self) -> None:
        self.blocks: List[str] = []
        self.names: set[str] = set()
        self.by_schema: Dict[str, str] = {}
        # Top-level objects that others may extend (EXTENDS): name → (properties, required).
        self.bases: Dict[str, Tuple[Schema, set[str]]] = {}

    def declare(self, name: str, schema: Schema, doc: str) -> None:
        key = canonical(schema)
        if key in self.by_schema:
            self.emit(name, f"{name} = {self.by_schema[key]}", doc)
            return
        if is_object(schema):
            self.object_class(name, schema, doc, top_level=True)
        else:
            self.emit(name, f"{name} = {self.type_of(schema, name)}", doc)
            self.by_schema.setdefault(key, name)

    def emit(self, name: str, code: str, doc: str) -> None:
        if name in self.names:
            raise GenerationError(f"two types named {name}")
        self.names.add(name)
        self.blocks.append(f"# {doc}\n{code}" if doc else code)

    def unique(self, name: str) -> str:
        candidate, n = name, 2
        while candidate in self.names:
            candidate, n = f"{name}{n}", n + 1
        return candidate

    def object_class(self, name: str, schema: Schema, doc: str, top_level: bool = False) -> str:
        properties: Schema = schema.get("properties", {})
        required = set(schema.get("required", []))
        base = "TypedDict"
        inherited: set[str] = set()
        if top_level and name in EXTENDS:
            base = EXTENDS[name]
            base_properties, base_required = self.bases[base]
            for key, value in base_properties.items():
                if key not in properties or canonical(properties[key]) != canonical(value) or (key in required) != (key in base_required):
                    raise GenerationError(f"{name} does not extend {base}: its {key} differs")
            inherited = set(base_properties)
        lines = [f"class {name}({base}):"]
        description = schema.get("description")
        if description:
            lines.append(f"    {docstring(description)}")
        for key, value in properties.items():
            if key in inherited:
                continue
            if not key.isidentifier() or keyword.iskeyword(key):
                raise GenerationError(f"{name}.{key} is not a Python identifier")
            annotation = self.type_of(value, name + camel(key))
            if key not in required:
                annotation = f"NotRequired[{annotation}]"
            if value.get("description"):
                lines.append(f"    {comment(value['description'])}")
            lines.append(f"    {key}: {annotation}")
        if len(lines) == 1 or (len(lines) == 2 and description):
            lines.append("    pass")
        self.emit(name, "\n".join(lines), doc)
        self.by_schema.setdefault(canonical(schema), name)
        if top_level:
            self.bases[name] = (properties, required)
        return name

    def type_of(self, schema: Schema, hint: str) -> str:
        known = self.by_schema.get(canonical(schema))
        if known is not None:
            return known
        if "$ref" in schema:
            raise GenerationError(f"$ref is not supported ({schema['$ref']}): the document inlines its schemas")
        if "const" in schema:
            return f"Literal[{literal(schema['const'])}]"
        if "enum" in schema:
            return f"Literal[{', '.join(literal(v) for v in schema['enum'])}]"
        for union in ("anyOf", "oneOf"):
            if union in schema:
                options = schema[union]
                alone = len([m for m in options if m.get("type") != "null"]) == 1  # "X or null": X keeps the hint
                members = [self.type_of(member, hint if alone else self.member_hint(hint, member, i)) for i, member in enumerate(options)]
                return union_of(members)
        if "allOf" in schema:
            raise GenerationError(f"allOf is not supported ({hint})")
        kind = schema.get("type")
        if isinstance(kind, list):
            return union_of([self.type_of({**schema, "type": k}, hint) for k in kind])
        if kind == "array":
            return f"List[{self.type_of(schema.get('items', {}), hint + 'Item')}]"
        if kind == "object" or "properties" in schema:
            if is_object(schema):
                return self.object_class(self.unique(hint), schema, "")
            extra = schema.get("additionalProperties", {})
            value = "Any" if extra in ({}, True) or "properties" in schema else self.type_of(extra, hint + "Value")
            return f"Dict[str, {value}]"
        if kind in PRIMITIVES:
            return PRIMITIVES[kind]
        if kind is None:
            return "Any"
        raise GenerationError(f"unknown JSON Schema type {kind!r} ({hint})")

    @staticmethod
    def member_hint(hint: str, member: Schema, index: int) -> str:
        tag = member.get("properties", {}).get("type", {}).get("const")
        return hint + (camel(tag) if isinstance(tag, str) else str(index + 1))


def is_object(schema: Schema) -> bool:
    """An object a TypedDict can describe: named properties and no other keys allowed."""
    return bool(schema.get("properties")) and schema.get("additionalProperties", False) in (False, None) and "anyOf" not in schema and "oneOf" not in schema


def canonical(schema: Schema) -> str:
    """Schemas equal up to their descriptions and examples are the same type."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("description", "example", "examples")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(schema), sort_keys=True)


def union_of(members: List[str]) -> str:
    unique: List[str] = []
    for member in members:
        if member not in unique:
            unique.append(member)
    others = [m for m in unique if m != "None"]
    inner = others[0] if len(others) == 1 else f"Union[{', '.join(others)}]"
    return f"Optional[{inner}]" if "None" in unique else inner


def literal(value: Any) -> str:
    return repr(value) if isinstance(value, (str, int, bool)) or value is None else json.dumps(value)


def camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", text) if part)


def comment(text: str) -> str:
    """An attribute's documentation: a `#:` comment (Sphinx reads these), one line."""
    return "#: " + " ".join(text.split())


def docstring(text: str) -> str:
    return '"""' + text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '"""'


def schema_at(document: Schema, method: str, path: str, where: Where, part: Tuple[str, ...]) -> Schema:
    schema: Optional[Schema]
    if isinstance(where, dict):
        schema = document.get("components", {}).get("schemas", {}).get(where["component"])
    else:
        operation = document.get("paths", {}).get(path, {}).get(method, {})
        if where == "body":
            content = operation.get("requestBody", {}).get("content", {})
            content_type = "application/json"
        else:
            assert isinstance(where, tuple)
            status, content_type = where
            content = operation.get("responses", {}).get(str(status), {}).get("content", {})
        schema = content.get(content_type, {}).get("schema")
    for step in part:
        if schema is None:
            break
        schema = schema.get("items") if step == "[]" else schema.get("properties", {}).get(step)
    if schema is None:
        raise GenerationError(f"/openapi.json has no JSON schema for {method} {path} {where} {'.'.join(part)}")
    return schema


def render(document: Schema) -> str:
    """The text of src/triggers/api_types.py for an OpenAPI document."""
    writer = TypeWriter()
    for name, method, path, where, *part in TYPES:
        schema = schema_at(document, method, path, where, tuple(part))
        if isinstance(where, dict):
            source = f"components.schemas.{where['component']}"
        else:
            what = "the request body" if where == "body" else str(where[0])
            inner = ".".join(part).replace(".[]", "[]")
            source = f"{method.upper()} {path}: {what}" + (f", its `{inner}`" if part else "")
        writer.declare(name, schema, source)
    for name, path in QUERIES:
        parameters = document.get("paths", {}).get(path, {}).get("get", {}).get("parameters", [])
        lines = [f"class {name}(TypedDict, total=False):"]
        for parameter in parameters:
            if parameter.get("in") != "query":
                continue
            if parameter.get("description"):
                lines.append(f"    {comment(parameter['description'])}")
            lines.append(f"    {parameter['name']}: {query_value_type(parameter.get('schema', {}))}")
        if len(lines) == 1:
            lines.append("    pass")
        writer.emit(name, "\n".join(lines), f"GET {path}: the query parameters")
    header = [
        "# Generated by sdks/python/scripts/generate_types.py from the server's /openapi.json. Do not edit:",
        "# run `python scripts/generate_types.py <server URL>` (tests/test_api_types.py fails while this file is stale).",
        '"""The Triggers API\'s request and response types, as the server\'s OpenAPI document declares them."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any, Dict, List, Optional, Union",
        "",
        "from typing_extensions import Literal, NotRequired, TypedDict",
        "",
        "__all__ = [" + ", ".join(repr(n) for n in [t[0] for t in TYPES] + [q[0] for q in QUERIES]) + "]",
    ]
    return "\n".join(header) + "\n\n\n" + "\n\n\n".join(writer.blocks) + "\n"


def query_value_type(schema: Schema) -> str:
    """A query value: its enum when it has one, an int for whole numbers, else a string."""
    if isinstance(schema.get("enum"), list):
        return f"Literal[{', '.join(literal(v) for v in schema['enum'])}]"
    if schema.get("type") in ("integer", "number"):
        return "int"
    return "str"


def fetch_document(base_url: str) -> Schema:
    with urllib.request.urlopen(base_url.rstrip("/") + "/openapi.json", timeout=30) as response:
        document: Schema = json.load(response)
        return document


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="the server's base URL (serves /openapi.json)")
    parser.add_argument("--file", help="a saved OpenAPI document instead")
    args = parser.parse_args(argv)
    if bool(args.url) == bool(args.file):
        parser.error("give a server URL or --file")
    document = json.loads(Path(args.file).read_text()) if args.file else fetch_document(args.url)
    GENERATED_FILE.write_text(render(document))
    print(f"wrote {GENERATED_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
