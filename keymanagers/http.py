"""HTTP for external key managers: one small httpx wrapper every external adapter talks through.

Why one place: every remote failure must become a ``KeyManagerError`` that names the key manager and
the step (a timeout, a refused connection, a server's own ``error_description``), and nothing the
portal sends or receives (secrets, tokens, registration access tokens) may reach a log. Requests are
logged as method, path and status only.

Redirects are never followed across hosts: a key manager that answers a POST carrying credentials
with a redirect elsewhere gets an error, not our credentials. Same-origin redirects of reads (a
missing trailing slash) are followed a few times.

No SSRF: every URL fetched here comes from an admin (endpoints, the well-known URL) or from a
remote server (discovery documents, ``registration_client_uri``), so a connection is made only to
public addresses: ``GuardedBackend`` resolves the host at connect time, refuses the whole host if
any of its addresses is loopback, private, link-local (cloud metadata), shared or reserved, and
then connects to the checked address itself (no second DNS lookup an attacker could answer
differently). Redirects open new connections through the same check. Environment proxies are
ignored, since a proxy would make the connection on our behalf past the check.
``PORTAL_KEYMANAGER_ALLOW_PRIVATE_ADDRESSES`` lifts the rule for key managers on a private network.
Remote error bodies that are not OAuth-style JSON are summarised (status, type, size), never
echoed.

Also here: OpenID Connect / RFC 8414 discovery (``fetch_well_known``, ``apply_discovery``), used by the
admin's "Import endpoints from well-known URL".
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import socket
import threading
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

import httpcore
import httpx
from django.conf import settings

from keymanagers.base import InvalidScope, KeyManagerError

if TYPE_CHECKING:
    from keymanagers.models import KeyManager

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
_HEADERS = {"Accept": "application/json", "User-Agent": "devportal-keymanager/1"}

# One pooled client per timeout, shared by every request of this process: connections (and TLS
# sessions) to a key manager are reused instead of set up again for every developer action.
_shared_clients: dict[float, httpx.Client] = {}
_shared_lock = threading.Lock()


class AddressRefused(Exception):
    """A host resolved to an address outbound calls may not reach (see the module docstring)."""

    def __init__(self, host: str):
        super().__init__(host)
        self.host = host


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global is False for loopback, RFC 1918, link-local (169.254.169.254 metadata), CGNAT,
    # unique-local IPv6 (fd00:ec2::254 metadata), documentation and reserved ranges.
    return ip.is_global and not ip.is_multicast


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend that connects only to public addresses (unless allowed)."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        if settings.PORTAL_KEYMANAGER_ALLOW_PRIVATE_ADDRESSES:
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}") from exc
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if not addresses or not all(is_public_address(a) for a in addresses):
            raise AddressRefused(host)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        raise last_error  # type: ignore[misc]


def _guarded_transport() -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport()
    # httpx does not take a network backend; httpcore's pool does (its documented extension point).
    transport._pool._network_backend = GuardedBackend()
    return transport


def _new_client(timeout: float, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(
        timeout=timeout,
        follow_redirects=False,
        # A test's simulator, or the real network through the address guard.
        transport=transport or _guarded_transport(),
        trust_env=False,
        headers=_HEADERS,
        # Shared by all key managers and callers: a cookie one server sets must never ride along
        # with another request, so the jar accepts none.
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )


def shared_client(timeout: float) -> httpx.Client:
    with _shared_lock:
        client = _shared_clients.get(timeout)
        if client is None:
            client = _shared_clients[timeout] = _new_client(timeout)
        return client


_ERROR_TEXT_LIMIT = 300


@dataclass
class Response:
    """What the caller needs of an answer: the status, the parsed JSON (or None) and the headers."""

    status: int
    data: Any
    headers: httpx.Headers

    def json_object(self) -> dict[str, Any]:
        return self.data if isinstance(self.data, dict) else {}


def basic_auth(username: str, password: str) -> str:
    """An ``Authorization: Basic`` value, form-encoding both parts first as RFC 6749 2.3.1 says."""
    raw = f"{quote(username, safe='')}:{quote(password, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def bearer(token: str) -> str:
    return f"Bearer {token}"


def error_message(data: Any, status: int) -> str:
    """A readable message from an OAuth error body (RFC 6749 5.2), Okta's, Keycloak's or plain text."""
    parts: list[str] = []
    if isinstance(data, dict):
        # RFC 6749 / 7591: error + error_description. Okta API: errorCode + errorSummary (+ causes).
        # Keycloak admin API: errorMessage, or error alone.
        code = data.get("error") or data.get("errorCode")
        description = data.get("error_description") or data.get("errorSummary") or data.get("errorMessage")
        if isinstance(code, str) and code:
            parts.append(code)
        if isinstance(description, str) and description:
            parts.append(description)
        causes = data.get("errorCauses")
        if isinstance(causes, list):
            for cause in causes:
                if isinstance(cause, dict) and isinstance(cause.get("errorSummary"), str):
                    parts.append(cause["errorSummary"])
    elif isinstance(data, str) and data.strip():
        # Whatever answered (an HTML error page, an internal service) is not quoted back: a
        # summary says enough to diagnose and cannot carry the remote content to the page.
        parts.append(f"the server answered with a non-JSON body ({len(data.encode())} bytes)")
    text = ": ".join(parts)[:_ERROR_TEXT_LIMIT] if parts else "no error description"
    return f"{text} (HTTP {status})"


class KeyManagerHttp:
    """An httpx client bound to one key manager: its timeout, its name in errors, quiet logs.

    Tests pass ``transport`` (an ``httpx.MockTransport`` around a simulator) to talk to a fake server
    through exactly the same code path.
    """

    def __init__(
        self,
        key_manager: KeyManager,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float | None = None,
    ):
        self.key_manager = key_manager
        self.transport = transport
        self.label = key_manager.display_name or key_manager.name or "key manager"
        self.timeout = float(timeout or key_manager.timeout or settings.PORTAL_KEYMANAGER_TIMEOUT)
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        # Looked up on first use: most adapters are made only to describe a key manager.
        if self._client is None:
            if self.transport is None:
                self._client = shared_client(self.timeout)
            else:  # a test's simulator: its own client, closed with it
                self._client = _new_client(self.timeout, self.transport)
        return self._client

    def close(self) -> None:
        if self._client is not None and self.transport is not None:
            self._client.close()
        self._client = None

    def error(self, step: str, message: str, **kwargs: Any) -> KeyManagerError:
        return KeyManagerError(self.label, step, message, **kwargs)

    def request(
        self,
        step: str,
        method: str,
        url: str,
        *,
        json: Any = None,
        form: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        authorization: str = "",
        accept: tuple[int, ...] = (),
    ) -> Response:
        """Send one request and return the answer; any non-2xx status not in ``accept`` raises.

        ``authorization`` is a full header value (see ``basic_auth``/``bearer``, or Okta's ``SSWS …``).
        """
        if not url:
            raise self.error(step, "the endpoint is not configured")
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise self.error(step, f"the endpoint is not an http(s) URL: {url}")
        headers = {"Authorization": authorization} if authorization else {}
        same_origin = origin(url)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(step, method, url, json=json, form=form, params=params, headers=headers)
            if not response.is_redirect:
                break
            target = urljoin(url, response.headers.get("Location", ""))
            if origin(target) != same_origin:
                raise self.error(
                    step,
                    f"the server redirected to another host ({urlsplit(target).netloc}); not following",
                    status=response.status_code,
                )
            if method not in ("GET", "HEAD"):
                raise self.error(
                    step,
                    f"the server redirected a {method} request (HTTP {response.status_code}); "
                    "check the endpoint URL",
                    status=response.status_code,
                )
            url, params = target, None
        else:
            raise self.error(step, "too many redirects")

        data = _parse(response)
        status = response.status_code
        if 200 <= status < 300 or status in accept:
            return Response(status=status, data=data, headers=response.headers)
        if isinstance(data, dict) and data.get("error") == "invalid_scope":
            raise InvalidScope(self.label, step, error_message(data, status), status=status)
        raise self.error(step, error_message(data, status), status=status)

    def json_request(self, step: str, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """``request`` for endpoints that must answer a JSON object (anything else is an error)."""
        response = self.request(step, method, url, **kwargs)
        if not isinstance(response.data, dict):
            raise self.error(
                step,
                f"the server did not answer with a JSON object (HTTP {response.status})",
                status=response.status,
            )
        return response.data

    def _send(
        self,
        step: str,
        method: str,
        url: str,
        *,
        json: Any,
        form: dict[str, str] | None,
        params: dict[str, str] | None,
        headers: dict[str, str],
    ) -> httpx.Response:
        path = urlsplit(url).path or "/"
        try:
            response = self.client.request(method, url, json=json, data=form, params=params, headers=headers)
        except httpx.TimeoutException:
            logger.warning("%s %s %s: timed out after %s s", self.label, method, path, _seconds(self.timeout))
            raise self.error(step, f"timed out after {_seconds(self.timeout)} s") from None
        except AddressRefused as exc:
            logger.warning("%s %s %s: refused a non-public address", self.label, method, path)
            raise self.error(
                step,
                f"refused: {exc.host} is not a public address (loopback, private, link-local or "
                "reserved); an operator can allow such addresses with PORTAL_KEYMANAGER_ALLOW_PRIVATE_ADDRESSES",
            ) from None
        except httpx.ConnectError:
            logger.warning("%s %s %s: could not connect", self.label, method, path)
            raise self.error(step, f"could not connect to {urlsplit(url).netloc}") from None
        except httpx.HTTPError as exc:
            # The exception text may quote the URL only; still, keep it out of logs and messages.
            logger.warning("%s %s %s: %s", self.label, method, path, type(exc).__name__)
            raise self.error(
                step,
                f"the connection to {urlsplit(url).netloc} failed ({type(exc).__name__})",
            ) from None
        logger.info("%s %s %s -> %s", self.label, method, path, response.status_code)
        return response


def origin(url: str) -> tuple[str, str | None, int | None]:
    """A URL's origin (RFC 6454: scheme, host, port with the scheme's default filled in), for the
    checks that keep credentials at the server they belong to."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:  # a malformed port
        port = -1
    return scheme, parts.hostname, port


def _seconds(value: float) -> str:
    return f"{value:g}"


def _parse(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


# -- discovery -------------------------------------------------------------------------------------

# Discovery document member -> KeyManager field (OpenID Connect Discovery 1.0, RFC 8414).
DISCOVERY_FIELDS = {
    "issuer": "issuer",
    "authorization_endpoint": "authorize_endpoint",
    "token_endpoint": "token_endpoint",
    "revocation_endpoint": "revoke_endpoint",
    "introspection_endpoint": "introspection_endpoint",
    "userinfo_endpoint": "userinfo_endpoint",
    "jwks_uri": "jwks_endpoint",
    "registration_endpoint": "registration_endpoint",
}
DISCOVERY_STEP = "import endpoints from well-known URL"


def fetch_well_known(
    url: str, *, key_manager: KeyManager | None = None, transport: httpx.BaseTransport | None = None
) -> dict[str, Any]:
    """GET a discovery document and check it is one (a JSON object with an issuer and a token endpoint)."""
    from keymanagers.models import KeyManager

    km = key_manager or KeyManager(name=urlsplit(url).netloc or "key manager")
    http = KeyManagerHttp(km, transport=transport)
    try:
        doc = http.json_request(DISCOVERY_STEP, "GET", url)
    except KeyManagerError as exc:
        if exc.status is None:  # no answer: timeout, refused address, connection failure
            raise
        # An answer from whatever the URL points at is summarised, never shown (no SSRF read-back).
        raise http.error(
            DISCOVERY_STEP,
            f"the server answered HTTP {exc.status}, not a discovery document",
            status=exc.status,
        ) from None
    finally:
        http.close()
    for member in ("issuer", "token_endpoint"):
        if not isinstance(doc.get(member), str) or not doc[member]:
            raise http.error(
                DISCOVERY_STEP, f"the document at {url} has no {member}: is it a well-known URL?"
            )
    for member in DISCOVERY_FIELDS:
        value = doc.get(member)
        if value is None or member == "issuer":
            continue
        if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
            raise http.error(DISCOVERY_STEP, f"{member} in the document is not an http(s) URL")
        if len(value) > 500:
            raise http.error(DISCOVERY_STEP, f"{member} in the document is longer than 500 characters")
    return doc


def apply_discovery(key_manager: KeyManager, doc: dict[str, Any]) -> list[str]:
    """Copy endpoints and grant types from a discovery document onto ``key_manager`` (not saved).

    Grant types: the server's ``grant_types_supported`` (RFC 8414 default: authorization_code and
    implicit) limited to those the portal knows; password and implicit only if the admin had already
    allowed them, as current OAuth security guidance forbids them. Returns the changed field names.
    """
    from keymanagers.models import DISCOURAGED_GRANT_TYPES, GrantType

    changed: list[str] = []
    for member, field in DISCOVERY_FIELDS.items():
        value = doc.get(member)
        if isinstance(value, str) and value and getattr(key_manager, field) != value:
            setattr(key_manager, field, value)
            changed.append(field)

    supported = doc.get("grant_types_supported")
    if not isinstance(supported, list):
        supported = ["authorization_code", "implicit"]
    already = set(key_manager.available_grant_types or [])
    grant_types = [
        g.value
        for g in GrantType
        if g.value in supported and (g not in DISCOURAGED_GRANT_TYPES or g.value in already)
    ]
    if grant_types != list(key_manager.available_grant_types or []):
        key_manager.available_grant_types = grant_types
        changed.append("available_grant_types")
    return changed
