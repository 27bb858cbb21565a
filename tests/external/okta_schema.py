"""Okta's OpenAPI extracts as a checker: every request the adapter sends to the Okta simulator, and
every answer the simulator gives, must fit the operation's schema in Okta's own specification.

The extracts live beside the clone (``<repo>/../shared/reference/okta/``, as in CI). What is checked
for each (method, path) the spec knows:

- the request body (JSON or form) against the operation's ``requestBody`` schema, following a
  ``discriminator`` mapping (``TokenRequestCustomAs`` → ``TokenRequestClientCredentials``, whose
  ``required: [scope]`` is the rule of issue 11) and refusing ``readOnly`` members (``client_id``,
  ``client_secret``, … must not be sent);
- the answer's status is one the operation documents, and its body fits that response's schema.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference" / "okta"
SPECS = ("okta-oauth-openapi.yaml", "okta-apps-secrets-openapi.yaml")


@cache
def _specs() -> list[tuple[str, dict[str, Any]]]:
    loaded = []
    for name in SPECS:
        path = REFERENCE / name
        if not path.is_file():
            raise FileNotFoundError(
                f"Okta's OpenAPI extract {path} is missing (shared/ must sit beside the clone)"
            )
        loaded.append((f"urn:okta:{name}", yaml.safe_load(path.read_text())))
    return loaded


@cache
def _registry() -> Registry:
    registry = Registry()
    for uri, doc in _specs():
        registry = registry.with_resource(uri, Resource.from_contents(doc, default_specification=DRAFT7))
    return registry


def _operation(method: str, path: str) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """(spec uri, the spec, the operation) for a request, literal paths before templated ones."""
    candidates = []
    for uri, doc in _specs():
        for template, item in doc.get("paths", {}).items():
            pattern = "^" + "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", template)) + "$"
            if re.match(pattern, path) and method.lower() in item:
                candidates.append((template.count("{"), uri, doc, item[method.lower()]))
    if not candidates:
        return None
    _, uri, doc, operation = min(candidates, key=lambda c: c[0])
    return uri, doc, operation


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def _absolute(uri: str, node: Any) -> Any:
    """``node`` with its local ``$ref``s made absolute, so it can be checked outside its document."""
    if isinstance(node, dict):
        return {
            k: (
                f"{uri}{v}"
                if k == "$ref" and isinstance(v, str) and v.startswith("#/")
                else _absolute(uri, v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute(uri, v) for v in node]
    return node


def _schema_problems(
    uri: str,
    doc: dict[str, Any],
    schema: dict[str, Any],
    body: Any,
    *,
    request: bool,
    allowed: frozenset[str] = frozenset(),
) -> list[str]:
    problems = []
    validator = Draft7Validator(_absolute(uri, schema), registry=_registry())
    problems += [
        f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in validator.iter_errors(body)
    ]
    resolved = _resolve(doc, schema)
    discriminator = resolved.get("discriminator") if isinstance(resolved, dict) else None
    if discriminator and isinstance(body, dict):
        mapped = discriminator.get("mapping", {}).get(str(body.get(discriminator["propertyName"])))
        # The extracts leave some mapped schemas out (OpenIdConnectApplication): what is there is checked.
        if mapped and mapped[2:].split("/")[-1] in doc.get("components", {}).get("schemas", {}):
            problems += _schema_problems(uri, doc, {"$ref": mapped}, body, request=request, allowed=allowed)
    if request and isinstance(body, dict):
        for name, prop in _properties(doc, resolved).items():
            if name in body and name not in allowed and _resolve(doc, prop).get("readOnly"):
                problems.append(f"{name}: read-only in Okta's schema, must not be sent")
    return problems


def _properties(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        props.update(_properties(doc, _resolve(doc, part)))
    return props


def _example_members(doc: dict[str, Any], holder: dict[str, Any]) -> frozenset[str]:
    """Members the operation's own request examples send, read-only or not (replaceClient's example
    sends ``client_id``, as RFC 7592 asks)."""
    members: set[str] = set()
    for media in (_resolve(doc, holder).get("content") or {}).values():
        for example in (media.get("examples") or {}).values():
            value = _resolve(doc, example).get("value")
            if isinstance(value, dict):
                members.update(value)
    return frozenset(members)


def _content_schema(doc: dict[str, Any], holder: dict[str, Any]) -> dict[str, Any] | None:
    content = _resolve(doc, holder).get("content") or {}
    for media in ("application/json", "application/x-www-form-urlencoded"):
        if media in content and "schema" in content[media]:
            return content[media]["schema"]
    return None


def problems_with(method: str, path: str, request_body: Any, status: int, answer: Any) -> list[str]:
    """What in this exchange does not fit Okta's specification (empty: all fits)."""
    found = _operation(method, path)
    if found is None:
        return [f"{method} {path}: not an operation of Okta's specification"]
    uri, doc, operation = found
    where = f"{method} {path}"
    problems = []
    if request_body not in (None, {}) and "requestBody" in operation:
        schema = _content_schema(doc, operation["requestBody"])
        if schema is not None:
            allowed = _example_members(doc, operation["requestBody"])
            problems += [
                f"{where} request {p}"
                for p in _schema_problems(uri, doc, schema, request_body, request=True, allowed=allowed)
            ]
    responses = dict(operation.get("responses", {}))
    if status == 401 and "401" not in responses:
        # Every management call may answer 401 E0000011 for a refused API token; some operations
        # of the extract leave it out, the shared response component (apps extract) says it.
        uri, doc = _specs()[1]
        responses["401"] = {"$ref": "#/components/responses/ErrorInvalidToken401"}
    if str(status) not in responses:
        return [*problems, f"{where}: status {status} is not documented ({', '.join(responses)})"]
    schema = _content_schema(doc, responses[str(status)])
    if schema is not None and answer is not None:
        problems += [
            f"{where} answer {status} {p}" for p in _schema_problems(uri, doc, schema, answer, request=False)
        ]
    return problems


def check_simulator(sim) -> list[str]:
    """Every exchange the simulator saw, checked."""
    problems = []
    for seen, status, answer in sim.answers:
        if status >= 500:
            continue  # a failure the test injected: no specification documents those
        body = seen.json if seen.json is not None else (seen.form or None)
        problems += problems_with(seen.method, seen.path, body, status, answer)
    return problems
