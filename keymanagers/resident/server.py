"""The oauthlib server of the resident authorization server (DOT's ``OAUTH2_SERVER_CLASS``).

Three things DOT's settings cannot express:

* per-client access-token lifetimes: oauthlib accepts a callable ``token_expires_in``, but DOT's
  setting is not an import string, so the server installs ``tokens.access_token_expires_in``;
* "PKCE plain allowed" per client: oauthlib accepts ``plain`` (and a missing method, which means
  plain) from everyone, so a pre-authorization validator refuses it unless the client allows it;
* introspection only by real client authentication (RFC 7662 2.1): oauthlib lets a public client
  in with its client_id alone.

``ResidentOAuthLibCore`` (DOT's ``OAUTH2_BACKEND_CLASS``) hands oauthlib the form Django already
parsed, and ``oauthlib_core`` keeps one server per process for the views that are not DOT's.
"""

from __future__ import annotations

import threading

from oauth2_provider.models import AbstractApplication
from oauth2_provider.oauth2_backends import OAuthLibCore, get_oauthlib_core
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid import Server

from keymanagers.resident import tokens


def refuse_plain_pkce_unless_allowed(request) -> dict:
    """Pre-auth validator: ``code_challenge_method=plain`` (or none given) only where the client allows it."""
    if request.code_challenge is None:
        return {}
    method = request.code_challenge_method or "plain"
    if method == "plain" and not getattr(request.client, "pkce_plain_allowed", False):
        raise errors.InvalidRequestError(
            description="This client requires code_challenge_method=S256; plain PKCE is not allowed.",
            request=request,
        )
    return {}


class ResidentServer(Server):
    def __init__(
        self,
        request_validator,
        token_expires_in=None,
        token_generator=None,
        refresh_token_generator=None,
        *args,
        **kwargs,
    ):
        super().__init__(
            request_validator,
            tokens.access_token_expires_in,
            token_generator or tokens.generate_access_token,
            refresh_token_generator or tokens.generate_refresh_token,
            *args,
            **kwargs,
        )
        # The OpenID grants proxy to their own OAuth2 code grant, so each gets the check.
        for grant in (
            self.auth_grant,
            self.openid_connect_auth.proxy_target,
            self.openid_connect_hybrid.proxy_target,
        ):
            grant.custom_validators.pre_auth.append(refuse_plain_pkce_unless_allowed)

    def validate_introspect_request(self, request):
        """oauthlib's checks, but the client must authenticate with a secret and be confidential
        (or a resource server): a public client's id proves nothing, so it may not probe tokens."""
        self._raise_on_bad_method(request)
        self._raise_on_bad_post_request(request)
        self._raise_on_missing_token(request)
        if not self.request_validator.authenticate_client(request) or not may_introspect(request.client):
            raise errors.InvalidClientError(request=request)
        self._raise_on_unsupported_token(request)


def may_introspect(client) -> bool:
    return client is not None and (
        client.client_type == AbstractApplication.CLIENT_CONFIDENTIAL
        or getattr(client, "is_resource_server", False)
    )


class ResidentOAuthLibCore(OAuthLibCore):
    """DOT's bridge from Django to oauthlib, without parsing the form twice.

    DOT re-encodes ``request.POST`` into a string that oauthlib's ``Request`` parses again. oauthlib
    takes a list of pairs as well, but turns it into a dict on the way (``to_unicode``), which
    would keep only the last of RFC 8707's repeated ``resource`` parameters: a list is handed over
    only when every name is distinct (the views refuse every other repetition first).
    """

    def _extract_params(self, request):
        body = self.extract_body(request)
        if len({name for name, _value in body}) != len(body):
            return super()._extract_params(request)
        return self._get_escaped_full_path(request), request.method, body, self.extract_headers(request)


_core = None
_core_lock = threading.Lock()


def oauthlib_core():
    """This process's oauthlib server for the resident views that are not DOT's (introspection):
    building one (validator, server, every grant and endpoint) cost ~130 us per request. DOT's
    views keep theirs per view class the same way, and like them this one is rebuilt every time
    only with DOT's ``ALWAYS_RELOAD_OAUTHLIB_CORE`` (settings changed at run time)."""
    global _core
    if oauth2_settings.ALWAYS_RELOAD_OAUTHLIB_CORE:
        return get_oauthlib_core()
    core = _core
    if core is None:
        with _core_lock:
            core = _core = _core or get_oauthlib_core()
    return core
