"""The request validator of the resident authorization server (DOT's ``OAUTH2_VALIDATOR_CLASS``).

What it changes in DOT's validator, and why:

* client secrets are ``ClientSecret`` rows (several per client, optional expiry) checked with a
  keyed HMAC, never DOT's ``client_secret`` column and never Django's password hasher (~0.3 s of
  CPU per check); an empty or missing secret never authenticates a confidential client;
* grant types come from the client's ``grant_types`` list, and password/implicit also need the
  Resident key manager to offer them (current OAuth guidance forbids both);
* refresh tokens are only issued to clients that have the refresh_token grant, and live as long as
  the client says;
* PKCE is per client (and always required of public clients);
* callback URLs may be a ``regexp=`` pattern;
* a resource server may revoke and introspect every client's tokens, other clients only their own;
* ID tokens are signed with the server's signing keys, like access tokens;
* authorization codes are stored only as their keyed hash, like client secrets; a code used twice
  revokes the tokens issued from it (RFC 6749 4.1.2), and a ``redirect_uri`` that differs from the
  authorization request's is ``invalid_grant`` (RFC 6749 5.2);
* ``prompt=none`` is decided by the authorization view, which knows the browser's session: the
  silent-login hooks oauthlib calls for OpenID requests only confirm what the view checked.
"""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from urllib.parse import unquote_plus

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import AbstractApplication
from oauth2_provider.oauth2_validators import AccessToken, Grant, IDToken, OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from keymanagers.callbacks import MAX_REDIRECT_URI_LENGTH, REGEXP_PREFIX, regexp_matches
from keymanagers.models import ClientSecret, GrantType, KeyManager, OAuthClient, RedeemedCode
from keymanagers.resident import (
    cache,
    introspection,
    lookup,
    revocation,
    scopes,
    signing,
    token_insert,
    tokens,
    usage,
)
from portal import crypto

# Grants a client may only use when the Resident key manager also offers them (RFC 9700).
GATED_GRANT_TYPES = {GrantType.PASSWORD.value, GrantType.IMPLICIT.value}


def live_secrets(client) -> list[tuple[object, str]]:
    """(id, keyed hash) of the client's unexpired secrets: from this request's cached copy of the
    client (``keymanagers.resident.cache``), else from the database."""
    cached = cache.secret_candidates(client)
    if cached is not None:
        return cached
    return list(
        ClientSecret.objects.filter(client=client)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .values_list("id", "secret_hash")
    )


def secret_matches(client, secret: str):
    """The id of the client's unexpired secret that ``secret`` is, or None (so it also says which
    secret authenticated, for "last used").

    The keyed hash is computed once and compared in constant time with every candidate.
    """
    if not secret:
        return None
    return crypto.which_matches(secret, live_secrets(client))


def code_hash(code: str) -> str:
    """What the database keeps of an authorization code: its keyed hash (a leak yields no code)."""
    return crypto.keyed_hash(code)


def _load_resident_grant_types() -> set[str]:
    row = (
        KeyManager.objects.filter(type=KeyManager.Type.RESIDENT)
        .values_list("available_grant_types", flat=True)
        .first()
    )
    return {g.replace("-", "_") for g in (row or [])}


def resident_grant_types() -> set[str]:
    return cache.resident_grant_types(_load_resident_grant_types)


def redirect_uri_matches(registered: list[str], uri: str, exact_check) -> bool:
    """``exact_check`` handles plain URIs (DOT's rules); ``regexp=`` entries must match the whole URI.

    Patterns are matched with RE2 (linear time): the URI comes from whoever calls the endpoint.
    """
    if len(uri) > MAX_REDIRECT_URI_LENGTH:
        return False
    plain = [r for r in registered if not r.startswith(REGEXP_PREFIX)]
    for entry in registered:
        if entry.startswith(REGEXP_PREFIX) and regexp_matches(entry[len(REGEXP_PREFIX) :], uri):
            return True
    return bool(plain) and exact_check(uri, plain)


class ResidentValidator(OAuth2Validator):
    # -- client authentication ---------------------------------------------------------------
    def _client_credentials(self, request) -> tuple[str | None, str]:
        """(client_id, secret) from HTTP Basic (preferred) or the body; (None, "") when absent."""
        auth = request.headers.get("HTTP_AUTHORIZATION") or request.headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "basic" and value:
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None, ""
            client_id, sep, secret = decoded.partition(":")
            if not sep:
                return None, ""
            # RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
            return unquote_plus(client_id), unquote_plus(secret)
        return request.client_id, getattr(request, "client_secret", None) or ""

    def _extract_basic_auth(self, request):
        auth = request.headers.get("HTTP_AUTHORIZATION") or request.headers.get("Authorization")
        if not auth:
            return None
        scheme, _, value = auth.partition(" ")
        return value if scheme.lower() == "basic" and value else None

    def authenticate_client(self, request, *args, **kwargs):
        client_id, secret = self._client_credentials(request)
        if not client_id or not secret:
            return False
        if request.client_id and request.client_id != client_id:
            return False  # Basic and body name different clients
        client = self._load_application(client_id, request)
        if client is None:
            return False
        request.client_id = client_id
        secret_id = secret_matches(client, secret)
        if secret_id is None:
            return False
        usage.record_use(client, secret_id)  # "last used": throttled, never fails the request
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        # A public client (no secret) authenticates by its id alone: its key's "last used" too.
        if not super().authenticate_client_id(client_id, request, *args, **kwargs):
            return False
        usage.record_use(request.client)
        return True

    def _load_application(self, client_id, request):
        """DOT's lookup (it sets ``request.client``), through the per-process client cache."""
        client = request.client
        if isinstance(client, OAuthClient) and client.client_id == client_id:
            return client
        request.client = None
        request.client = cache.client(
            client_id, lambda: super(ResidentValidator, self)._load_application(client_id, request)
        )
        return request.client

    def _check_secret(self, provided_secret, stored_secret):
        # DOT's own paths compare against Application.client_secret, which resident clients leave
        # empty: never let them authenticate anyone (authenticate_client above replaces them).
        return False

    # -- grant types ---------------------------------------------------------------------------
    def _client_allows(self, client, grant_type: str) -> bool:
        if not client.allows_grant_type(grant_type):
            return False
        if grant_type.replace("-", "_") in GATED_GRANT_TYPES:
            return grant_type.replace("-", "_") in resident_grant_types()
        return True

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        return self._client_allows(request.client, grant_type)

    def validate_user(self, username, password, client, request, *args, **kwargs):
        if not super().validate_user(username, password, client, request, *args, **kwargs):
            return False
        # A REST API client acts as the user who registered it: another user's password (where an
        # admin allowed the password grant at all) must not borrow it.
        return not client.api_client or request.user.pk == client.user_id

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        kinds = set(response_type.split())
        if kinds == {"code"}:
            return self._client_allows(client, GrantType.AUTHORIZATION_CODE)
        if kinds & {"token", "id_token"} and "code" not in kinds:
            return self._client_allows(client, GrantType.IMPLICIT)
        return False  # hybrid flows are not offered

    def is_pkce_required(self, client_id, request):
        client = self._load_application(client_id, request)
        if client is None:
            return True
        return bool(client.pkce_required or client.client_type == AbstractApplication.CLIENT_PUBLIC)

    # -- redirect URIs -------------------------------------------------------------------------
    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        client = request.client
        return redirect_uri_matches(
            client.redirect_uris.split(),
            redirect_uri,
            lambda uri, plain: _plain_redirect_allowed(client, uri, plain),
        )

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        uris = request.client.redirect_uris.split()
        if len(uris) == 1 and not uris[0].startswith(REGEXP_PREFIX):
            return uris[0]
        raise errors.MissingRedirectURIError(request=request)

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs):
        # oauthlib answers a mismatch with invalid_request; RFC 6749 5.2 says invalid_grant ("does
        # not match the redirection URI used in the authorization request").
        if not super().confirm_redirect_uri(client_id, code_hash(code), redirect_uri, client):
            raise errors.InvalidGrantError(
                description="redirect_uri does not match the one of the authorization request.",
                request=request,
            )
        return True

    # -- authorization codes: stored as a keyed hash, single use -----------------------------
    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        self._create_authorization_code(request, {**code, "code": code_hash(code["code"])})

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if super().validate_code(client_id, code_hash(code), client, request, *args, **kwargs):
            return True
        redeemed = RedeemedCode.objects.filter(code_hash=code_hash(code), client=client).first()
        if redeemed is not None:
            # RFC 6749 4.1.2: a code used twice is refused, and the tokens it gave are revoked.
            lookup.revoke_issued_tokens(redeemed.access_token_id, redeemed.token_family)
        return False

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        hashed = code_hash(code)
        access_id, family = getattr(request, "tokens_from_code", (None, None))
        with transaction.atomic():
            deleted, _ = Grant.objects.filter(code=hashed, application=request.client).delete()
            if deleted:
                RedeemedCode.objects.create(
                    code_hash=hashed,
                    client=request.client,
                    access_token_id=access_id,
                    token_family=family,
                    # No code outlives this; clear_resident_tokens deletes the row after the grace.
                    expires=timezone.now()
                    + timedelta(seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS),
                )
                return
        # Another request redeemed the same code at the same moment: a reuse, so neither keeps
        # its tokens.
        for redeemed in RedeemedCode.objects.filter(code_hash=hashed, client=request.client):
            lookup.revoke_issued_tokens(redeemed.access_token_id, redeemed.token_family)
        lookup.revoke_issued_tokens(access_id, family)
        raise errors.InvalidGrantError(request=request)

    def get_code_challenge(self, code, request):
        return super().get_code_challenge(code_hash(code), request)

    def get_code_challenge_method(self, code, request):
        return super().get_code_challenge_method(code_hash(code), request)

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        return super().get_authorization_code_scopes(client_id, code_hash(code), redirect_uri, request)

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        return super().get_authorization_code_nonce(client_id, code_hash(code), redirect_uri, request)

    # -- prompt=none (OpenID requests): the authorization view has decided already ------------
    def validate_silent_login(self, request):
        # ResidentAuthorizationView answers login_required before oauthlib runs when nobody is
        # signed in (or the sign-in is older than max_age).
        return True

    def validate_silent_authorization(self, request):
        # The view answers consent_required when the user has not approved these scopes before.
        return True

    # -- tokens --------------------------------------------------------------------------------
    def save_bearer_token(self, token, request, *args, **kwargs):
        if "refresh_token" in token and not request.client.allows_grant_type(GrantType.REFRESH_TOKEN):
            # oauthlib hands a refresh token to every code/password grant; only clients with the
            # refresh_token grant get one.
            del token["refresh_token"]
        if not tokens.stores_access_token(request):
            # A client_credentials JWT carries all it says and is not stored (README "Token
            # storage and revocation"): DOT's checks run, its insert and commit do not.
            if "scope" not in token:
                raise errors.FatalClientError("Failed to issue the access token: missing scope")
            self._check_and_set_request_resource(request)
            request.user = None
            return None
        if token_insert.applies(token, request):
            # One autocommit statement writes the row (``_create_access_token`` below): DOT's
            # transaction around a single insert is three round trips for nothing.
            return self._save_bearer_token(token, request, *args, **kwargs)
        saved = super().save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code":
            # Remembered with the code when it is invalidated, so a second use can revoke them.
            request.tokens_from_code = lookup.issued_tokens(token)
        return saved

    def _save_bearer_token(self, token, request, *args, **kwargs):
        # Inside DOT's transaction: a token row may be lost on a crash (the client asks again), so
        # PostgreSQL need not wait for the disk flush before answering (README "Performance").
        # Only when that transaction is the outermost: a caller's transaction (keys made together
        # with their first token) keeps its synchronous commit.
        if (
            settings.RESIDENT_TOKEN_ASYNC_COMMIT
            and connection.vendor == "postgresql"
            and len(connection.atomic_blocks) == 1
        ):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        return super()._save_bearer_token(token, request, *args, **kwargs)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        if source_refresh_token is not None or not token_insert.applies(token, request):
            return super()._create_access_token(expires, request, token, source_refresh_token)
        # DOT's instance, field for field (no ID token: ``applies`` checked), then one statement.
        access_token = AccessToken(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            id_token=None,
            application=request.client,
            source_refresh_token=None,
            resource=getattr(request, "resource", []),  # RFC 8707
        )
        self._set_token_value(access_token, token["access_token"])
        token_insert.insert(access_token)
        return access_token

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        if not client.allows_grant_type(GrantType.REFRESH_TOKEN):
            return False
        rt = request.refresh_token_instance
        if (
            rt.revoked is None
            and rt.created + timedelta(seconds=tokens.refresh_token_lifetime(client)) <= timezone.now()
        ):
            return False
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        # A refresh keeps only the scopes the client may still have: a restricted scope whose grant
        # an admin removed is not carried into new access tokens.
        original = super().get_original_scopes(refresh_token, request, *args, **kwargs)
        names = original.split() if isinstance(original, str) else list(original or [])
        return " ".join(n for n in names if n in set(scopes.allowed_scopes(names, request.client)))

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        # A resource server may revoke any client's token (RFC 7009 leaves the policy to us).
        if request.client is None:
            return  # oauthlib authenticated no client: nothing is whose tokens it may revoke
        resource_server = getattr(request.client, "is_resource_server", False)
        if revocation.revoke(token, client_id=None if resource_server else request.client.client_id):
            return
        if not resource_server:
            return super().revoke_token(token, token_type_hint, request, *args, **kwargs)
        lookup.revoke_by_value(token)

    def introspect_token(self, token, token_type_hint, request, *args, **kwargs):
        return introspection.claims_for(token, viewer=request.client)

    # -- OpenID Connect: ID tokens signed with our keys ----------------------------------------
    def get_oidc_issuer_endpoint(self, request):
        return settings.RESIDENT_ISSUER

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, _ = super().get_id_token_dictionary(token, token_handler, request)
        expiration_time = timezone.now() + timedelta(seconds=tokens.id_token_lifetime(request.client))
        claims["exp"] = int(expiration_time.timestamp())
        return claims, expiration_time

    def finalize_id_token(self, id_token, token, token_handler, request):
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        signed = signing.sign(id_token, typ="JWT")
        record = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = record
        request.id_token = record
        return signed

    def _load_id_token(self, token):
        try:
            claims = signing.verify(token, typ="jwt")
        except signing.InvalidJWT:
            return None
        return IDToken.objects.filter(jti=claims.get("jti")).first()


def _plain_redirect_allowed(client, uri: str, plain: list[str]) -> bool:
    from oauth2_provider.models import check_redirect_to_uri_allowed

    allowed, _ = check_redirect_to_uri_allowed(uri, plain)
    return allowed
