"""What every simulator shares: the request log, fault injection, routing and small helpers."""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    authorization: str
    query: dict[str, str]
    form: dict[str, str]
    json: Any


@dataclass
class Fault:
    method: str
    path: str
    status: int | None = None
    body: Any = None
    exception: type[httpx.TransportError] | None = None
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    handler: Callable[..., httpx.Response]


def token(prefix: str) -> str:
    return f"{prefix}{secrets.token_urlsafe(18)}"


def json_response(status: int, body: Any = None) -> httpx.Response:
    if body is None:
        return httpx.Response(status)
    return httpx.Response(status, json=body)


def basic_credentials(seen: Seen) -> tuple[str, str] | None:
    if not seen.authorization.startswith("Basic "):
        return None
    try:
        raw = base64.b64decode(seen.authorization[6:]).decode()
    except ValueError:
        return None
    user, _, password = raw.partition(":")
    return unquote(user), unquote(password)


def bearer_token(seen: Seen, scheme: str = "Bearer") -> str:
    prefix = f"{scheme} "
    return seen.authorization[len(prefix) :] if seen.authorization.startswith(prefix) else ""


@dataclass
class Simulator:
    """Subclasses add routes with ``self.route(method, regex, handler)``; handlers get ``seen`` and the
    regex's named groups."""

    base_url: str
    requests: list[Seen] = field(default_factory=list)
    #: Every answer, in the order of ``requests``: (request, status, parsed JSON body or None).
    answers: list[tuple[Seen, int, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)

    def __post_init__(self):
        self.transport = httpx.MockTransport(self.handle)

    def route(self, method: str, pattern: str, handler: Callable[..., httpx.Response]) -> None:
        self.routes.append(Route(method, re.compile(f"^{pattern}$"), handler))

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int | None = None,
        body: Any = None,
        exception: type[httpx.TransportError] | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next ``times`` requests to ``path`` (a substring) fail as given."""
        self.faults.append(Fault(method, path, status, body, exception, times, dict(headers or {})))

    def sent(self, method: str | None = None, path_contains: str = "") -> list[Seen]:
        return [
            s for s in self.requests if (method is None or s.method == method) and path_contains in s.path
        ]

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = self._handle(request)
        content = response.read()
        self.answers.append(
            (self.requests[-1], response.status_code, json.loads(content) if content else None)
        )
        return response

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        content_type = request.headers.get("Content-Type", "")
        form: dict[str, str] = {}
        data: Any = None
        if "application/x-www-form-urlencoded" in content_type:
            form = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        elif body:
            data = json.loads(body)
        seen = Seen(
            method=request.method,
            path=request.url.path,
            authorization=request.headers.get("Authorization", ""),
            query=dict(request.url.params),
            form=form,
            json=data,
        )
        self.requests.append(seen)
        for fault in self.faults:
            if fault.times > 0 and fault.method == seen.method and fault.path in seen.path:
                fault.times -= 1
                if fault.exception is not None:
                    raise fault.exception("simulated", request=request)
                response = json_response(fault.status or 500, fault.body)
                response.headers.update(fault.headers)
                return response
        for route in self.routes:
            match = route.pattern.match(seen.path)
            if match and route.method == seen.method:
                return route.handler(seen, **match.groupdict())
        return json_response(
            404, {"error": "not_found", "error_description": f"no route {seen.method} {seen.path}"}
        )
