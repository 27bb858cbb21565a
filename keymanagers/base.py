"""The key-manager interface: what every adapter does, and the registry from ``type`` to class.

``keys`` talks to authorization servers only through this module (``adapter_for(key_manager)``).
Adapters never touch ``keys`` models: they get plain dataclasses in and give plain dataclasses back.

Adapter state. Some servers hand back things the portal must keep to reach a client again (an RFC
7592 registration access token and URI, Okta's app id, Keycloak's internal uuid). Every method that
takes a ``ClientRef`` may update ``ref.state`` in place (Keycloak rotates the registration access
token on every call); the caller persists ``ref.state`` (encrypted) after every call, success or not.

Errors. Every failure is a ``KeyManagerError`` naming the key manager and the step, with a
message a developer can act on. Adapters never raise raw HTTP or database errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from portal.errors import Answer, PortalError

if TYPE_CHECKING:
    from keymanagers.models import KeyManager


class KeyManagerError(PortalError):
    """A key manager refused, failed or could not be reached: the portal answers 502 naming it.

    ``message`` is the key manager's side of the story and ``status`` its HTTP status, where
    there was one; what the portal answers is ``answer()`` (``portal.errors``)."""

    answer_status = 502
    title = "Bad Gateway"
    code = "key_manager_failed"

    def __init__(self, key_manager: str, step: str, message: str, *, status: int | None = None):
        self.key_manager = key_manager
        self.step = step
        self.message = message
        self.status = status  # the remote HTTP status, where there was one
        Exception.__init__(self, str(self))

    def __str__(self) -> str:
        return f"{self.key_manager}: {self.step} failed: {self.message}"

    @property
    def description(self) -> str:
        return str(self)

    def answer(self) -> Answer:
        return Answer(self.answer_status, self.title, self.description)


class NotSupported(KeyManagerError):
    """The key manager cannot do this at all (e.g. several secrets at a plain DCR server): the
    request's fault, so 400."""

    answer_status = 400
    title = "Bad Request"
    code = "not_supported"


class InvalidScope(KeyManagerError):
    """The key manager refused the scopes asked for (RFC 6749 5.2 ``invalid_scope``: unknown, or
    not granted to the client): the request's fault, so 400 naming them, not a failure's 502."""

    answer_status = 400
    title = "Bad Request"
    code = "invalid_scope"


#: Token lifetimes (seconds) of a key whose developer chose none: the one set of defaults, read by
#: the keys forms, configuration and model too.
EXPIRY_DEFAULTS = {
    "application_access_token_expiry_time": 3600,
    "user_access_token_expiry_time": 3600,
    "refresh_token_expiry_time": 86400,
    "id_token_expiry_time": 3600,
}


@dataclass
class ClientConfig:
    """What the developer chose in Key Configurations; seconds, negative means never expires."""

    name: str
    grant_types: list[str]
    callback_url: str = ""
    token_type: str = "JWT"  # the application's: JWT | OAUTH
    application_access_token_expiry_time: int = EXPIRY_DEFAULTS["application_access_token_expiry_time"]
    user_access_token_expiry_time: int = EXPIRY_DEFAULTS["user_access_token_expiry_time"]
    refresh_token_expiry_time: int = EXPIRY_DEFAULTS["refresh_token_expiry_time"]
    id_token_expiry_time: int = EXPIRY_DEFAULTS["id_token_expiry_time"]
    pkce_mandatory: bool = False
    pkce_support_plain: bool = False
    public_client: bool = False
    owner: str = ""  # the developer's username, for the remote client's metadata
    application_name: str = ""  # what end users see on a consent page (``name`` is internal)
    additional_properties: dict[str, Any] = field(default_factory=dict)
    # The restricted scopes an admin granted the application (unrestricted ones are open to all);
    # only adapters with ``honours_scope_grants`` enforce them.
    granted_scopes: list[str] = field(default_factory=list)
    # The scopes of the token the portal asks for right after creating the client (Generate Keys);
    # None when no token follows (an update). Only ``config_problems`` reads it.
    token_scopes: list[str] | None = None

    @property
    def callback_urls(self) -> list[str]:
        """The callback URL field may hold several URLs separated by spaces or commas."""
        return [u for u in self.callback_url.replace(",", " ").split() if u]


@dataclass
class ClientRef:
    """How to reach an existing client: its client_id and the adapter's own state."""

    client_id: str
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class SecretInfo:
    """A freshly made secret. ``value`` is shown once and never stored in plain text."""

    value: str
    remote_id: str = ""
    expires_at: datetime | None = None


@dataclass
class RegisteredClient:
    """A client just created (or mapped) at the key manager."""

    ref: ClientRef
    secret: SecretInfo | None  # None for a public client, or a mapped one whose secret we were not given
    grant_types: list[str] = field(default_factory=list)
    callback_url: str = ""


@dataclass
class TokenResult:
    access_token: str
    expires_in: int | None  # seconds; None = never expires
    scopes: list[str]
    token_type: str = "Bearer"


@dataclass
class LastUse:
    """When a client, and each of its secrets (by remote id), last authenticated at the server:
    None where never. A secret the server does not list is not known to it."""

    client: datetime | None
    secrets: dict[str, datetime | None] = field(default_factory=dict)


@dataclass
class ConnectionCheck:
    step: str
    ok: bool
    message: str


class KeyManagerAdapter:
    """Base class of every adapter. Subclasses set ``type`` and implement the hooks they support.

    A hook that a key manager cannot do raises ``NotSupported`` (the base class's default), so the
    caller can give a clear message instead of pretending.
    """

    type: ClassVar[str] = ""
    #: Several secrets per client at once (rotation without downtime).
    supports_multiple_secrets: ClassVar[bool] = False
    #: The client's token format follows ``ClientConfig.token_type`` (JWT or opaque); servers that
    #: choose their format themselves ignore it.
    honours_token_type: ClassVar[bool] = False
    #: The server gives a restricted scope only to clients whose ``ClientConfig.granted_scopes``
    #: name it, so the portal updates the clients whenever an admin changes the grants. Other
    #: servers manage their scopes themselves.
    honours_scope_grants: ClassVar[bool] = False
    #: Upper bound the server itself puts on secrets per client (Okta: 2); None = no bound.
    max_secrets: ClassVar[int | None] = None
    #: The server itself refuses a secret after its expiry (the portal passes ``expires_at`` when it
    #: creates the secret). Where False, ``keys.secrets.expiry.secrets_expire`` deletes expired
    #: secrets at the server instead, if the adapter can delete secrets (Okta's never expire).
    enforces_secret_expiry: ClassVar[bool] = False
    #: The server reports when a client and its secrets last authenticated (``last_used``). Where
    #: False, the pages and the API say "not reported by this key manager" instead of guessing.
    reports_last_use: ClassVar[bool] = False
    #: The grant types a developer may tick when the key manager's admin has not narrowed them.
    grant_types_offered: ClassVar[tuple[str, ...]] = ()

    def __init__(self, key_manager: KeyManager):
        self.key_manager = key_manager

    @property
    def label(self) -> str:
        return self.key_manager.display_name or self.key_manager.name

    def error(self, step: str, message: str, **kwargs: Any) -> KeyManagerError:
        return KeyManagerError(self.label, step, message, **kwargs)

    def not_supported(self, step: str) -> NotSupported:
        return NotSupported(self.label, step, f"{self.key_manager.get_type_display()} does not support this")

    # -- description -------------------------------------------------------------------------
    def endpoints(self) -> dict[str, str]:
        """Token, revoke, userinfo, introspection, authorize, JWKS endpoints shown to developers."""
        km = self.key_manager
        return {
            "token": km.token_endpoint,
            "revoke": km.revoke_endpoint,
            "userinfo": km.userinfo_endpoint,
            "introspect": km.introspection_endpoint,
            "authorize": km.authorize_endpoint,
            "jwks": km.jwks_endpoint,
            "discovery": km.well_known_url,
        }

    def available_grant_types(self) -> list[str]:
        """Grant types a developer may tick for this key manager."""
        return list(self.key_manager.available_grant_types or self.grant_types_offered)

    def application_configuration(self) -> list[dict[str, Any]]:
        """Extra fields of the keys form, in the reference's ``applicationConfiguration`` shape:
        ``name``, ``label``, ``type``, ``required``, ``default``, ``tooltip``, ``values``."""
        return []

    def default_grant_types(self) -> list[str]:
        """The grant types ticked on a fresh Key Configurations form: Client Credentials and Refresh
        Token where available. Adapters whose server refuses that pair narrow it."""
        available = self.available_grant_types()
        return [g for g in ("client_credentials", "refresh_token") if g in available]

    def unsupported_settings(self) -> dict[str, str]:
        """Key Configuration settings this key manager cannot honour, each with a one-line reason.

        Keys are ``ClientConfig`` field names. The keys page disables these fields (showing the
        reason) and ``config_problems`` refuses any value but the field's default, so no setting is
        ever accepted and then silently ignored."""
        return {}

    def config_problems(self, config: ClientConfig) -> dict[str, str]:
        """What is wrong with ``config`` at this key manager, by ``ClientConfig`` field name, found
        before anything is created remotely (an empty dict: nothing). The base class refuses the
        ``unsupported_settings`` set to anything but their default; adapters add their server's rules
        (for example the grant types an application type allows)."""
        defaults = ClientConfig(name="", grant_types=[])
        problems: dict[str, str] = {}
        for name, reason in self.unsupported_settings().items():
            if getattr(config, name, None) != getattr(defaults, name, None):
                problems[name] = f"{self.label} cannot honour this setting: {reason}"
        return problems

    def check_connection(self) -> list[ConnectionCheck]:
        """Probe the server: what works and what does not (admin's "Test connection")."""
        raise self.not_supported("test connection")

    # -- clients -----------------------------------------------------------------------------
    def register_client(
        self, config: ClientConfig, *, secret_expires_at: datetime | None = None
    ) -> RegisteredClient:
        """Create a client; return its id, state and first secret."""
        raise self.not_supported("register client")

    def update_client(self, ref: ClientRef, config: ClientConfig) -> SecretInfo | None:
        """Apply a changed configuration (grant types, callback, lifetimes, PKCE, public).

        Returns the new secret when the server rotated it as part of the update (some RFC 7592
        servers do, by policy), else None."""
        raise self.not_supported("update client")

    def delete_client(self, ref: ClientRef) -> None:
        """Delete the client and revoke what it can of its tokens. Deleting a missing client is fine."""
        raise self.not_supported("delete client")

    def map_client(
        self, client_id: str, client_secret: str = "", state: dict[str, Any] | None = None
    ) -> RegisteredClient:
        """Adopt a client that already exists at the server (Provide Existing OAuth Keys)."""
        raise self.not_supported("map existing client")

    # -- secrets -----------------------------------------------------------------------------
    def regenerate_secret(self, ref: ClientRef) -> SecretInfo:
        """Replace the client's (only) secret with a new one."""
        raise self.not_supported("regenerate secret")

    def create_secret(self, ref: ClientRef, *, expires_at: datetime | None = None) -> SecretInfo:
        """Add a secret beside the existing ones (``supports_multiple_secrets``)."""
        raise self.not_supported("create secret")

    def delete_secret(self, ref: ClientRef, remote_id: str) -> None:
        """Remove one secret; tokens issued with it stay valid. A secret the server does not know
        (already deleted) raises ``KeyManagerError`` with ``status=404``."""
        raise self.not_supported("delete secret")

    def last_used(self, refs: list[ClientRef]) -> dict[str, LastUse]:
        """When each client (by client_id) and each of its secrets last authenticated, in one call
        for many clients (``reports_last_use``); a client the server does not know is left out."""
        raise self.not_supported("report last use")

    # -- client lifecycle --------------------------------------------------------------------
    def disable_client(self, ref: ClientRef) -> None:
        """Stop the client from getting tokens, keeping it and its configuration (Okta: deactivate
        the app). For a server that will not delete a client's last active secret:
        ``keys.secrets.expiry.secrets_expire`` disables the client when that secret expires.
        Disabling a disabled client is fine."""
        raise self.not_supported("disable client")

    def enable_client(self, ref: ClientRef) -> None:
        """Undo ``disable_client``: the client gets tokens again with its active secrets. Enabling an
        enabled client is fine."""
        raise self.not_supported("enable client")

    # -- tokens ------------------------------------------------------------------------------
    def issue_token(
        self,
        ref: ClientRef,
        *,
        client_secret: str,
        scopes: list[str],
        validity_period: int | None = None,
        grant_type: str = "client_credentials",
    ) -> TokenResult:
        """Get an access token for the client (client_credentials by default)."""
        raise self.not_supported("generate token")

    def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662 answer for ``token`` (``{"active": false}`` when not valid)."""
        raise self.not_supported("introspect token")

    def revoke_token(self, ref: ClientRef, token: str, *, client_secret: str = "") -> None:
        """RFC 7009 revocation of one token."""
        raise self.not_supported("revoke token")

    def revoke_client_tokens(self, ref: ClientRef) -> int:
        """Revoke every token of the client ("revoke earlier tokens"); returns how many, if known."""
        raise self.not_supported("revoke tokens")


ADAPTERS: dict[str, type[KeyManagerAdapter]] = {}


def register(cls: type[KeyManagerAdapter]) -> type[KeyManagerAdapter]:
    """Class decorator: make ``cls`` the adapter for key managers of ``cls.type``."""
    ADAPTERS[cls.type] = cls
    return cls


def adapter_for(key_manager: KeyManager) -> KeyManagerAdapter:
    # Importing the package registers every adapter (keymanagers/__init__ would import models too
    # early, so the registry fills itself on first use).
    from keymanagers import adapters  # noqa: F401

    try:
        return ADAPTERS[key_manager.type](key_manager)
    except KeyError:
        raise KeyManagerError(
            str(key_manager), "load adapter", f"unknown key manager type {key_manager.type!r}"
        ) from None
