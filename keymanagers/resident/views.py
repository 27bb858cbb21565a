"""HTTP endpoints of the resident authorization server, and the sample protected resource.

Token, authorize and revoke are DOT's views (driven by ``ResidentValidator``/``ResidentServer``);
introspection, JWKS, userinfo and the metadata documents are ours, because DOT's versions assume
its own key settings, scope-protected introspection and one signing key per client.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from oauth2_provider.compat import login_not_required
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import AuthorizationView, RevokeTokenView, TokenView

from keymanagers.models import GrantType, KeyManager
from keymanagers.resident import bearer, scopes, signing
from keymanagers.resident.adapter import ENDPOINT_PATHS, SERVED_GRANT_TYPES
from keymanagers.resident.bearer import BearerError

# What /sample/hello demands of a token, unless the caller names other scopes with ?scope=.
SAMPLE_REQUIRED_SCOPE = scopes.DEFAULT_SCOPE
# The realm of the Basic challenge on endpoints where clients authenticate.
CLIENT_AUTH_REALM = "resident"


def _no_store(response: HttpResponse) -> HttpResponse:
    # RFC 6749 5.1: responses carrying tokens or secrets must not be cached.
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _client_auth_challenge(response: HttpResponse) -> HttpResponse:
    """A failed client authentication challenges for HTTP Basic (RFC 6749 5.2), not Bearer.

    oauthlib answers every 401 with a Bearer challenge (RFC 6750), which is right for resource
    servers but wrong where clients authenticate with their id and secret.
    """
    if response.status_code == 401:
        response["WWW-Authenticate"] = f'Basic realm="{CLIENT_AUTH_REALM}"'
    return response


class ResidentTokenView(TokenView):
    """``/oauth2/token``: every grant goes through oauthlib (the device flow is not offered)."""

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def post(self, request, *args, **kwargs):
        if app_authorized.has_listeners():
            response = self.authorization_flow_token_response(request)
        else:
            # DOT reads the new token back from the database only to send ``app_authorized``;
            # with no receiver that is a query per token request for nothing.
            _url, headers, body, status = self.create_token_response(request)
            response = HttpResponse(content=body, status=status)
            for name, value in headers.items():
                response[name] = value
        return _no_store(_client_auth_challenge(response))


class ResidentRevokeView(RevokeTokenView):
    """``/oauth2/revoke`` (RFC 7009): a client revokes its own tokens; a resource server any."""

    def post(self, request, *args, **kwargs):
        return _no_store(_client_auth_challenge(super().post(request, *args, **kwargs)))


class ResidentAuthorizationView(AuthorizationView):
    """``/oauth2/authorize``: the consent page (templates/oauth2_provider/authorize.html)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["scope_items"] = list(
            zip(kwargs.get("scopes", []), kwargs.get("scopes_descriptions", []), strict=False)
        )
        return context


@csrf_exempt  # client-authenticated, not a browser form (RFC 7662)
@login_not_required
@require_POST
def introspect(request: HttpRequest) -> HttpResponse:
    """``/oauth2/introspect`` (RFC 7662): a client sees its own tokens; a resource server every token.

    Only a confidential client with a valid secret (or a resource server) may ask:
    ``ResidentServer.validate_introspect_request``.
    """
    core = get_oauthlib_core()
    uri, http_method, body, headers = core._extract_params(request)
    headers, body, status = core.server.create_introspect_response(uri, http_method, body, headers)
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    return _no_store(_client_auth_challenge(response))


@login_not_required
@require_GET
@cache_control(public=True, max_age=300)
def jwks(request: HttpRequest) -> JsonResponse:
    """``/oauth2/jwks``: active and recently retired public keys."""
    return JsonResponse(signing.jwks())


def _resident_grant_types() -> list[str]:
    row = KeyManager.objects.filter(type=KeyManager.Type.RESIDENT).values_list(
        "available_grant_types", flat=True
    )
    served = {str(g) for g in SERVED_GRANT_TYPES}
    return [g for g in row.first() or [] if g in served]


def server_metadata() -> dict:
    """RFC 8414 / OpenID Connect Discovery document of the resident server."""
    site = settings.SITE_URL
    grant_types = _resident_grant_types()
    response_types = ["code"] + (["token"] if GrantType.IMPLICIT in grant_types else [])
    auth_methods = ["client_secret_basic", "client_secret_post"]
    return {
        "issuer": settings.RESIDENT_ISSUER,
        "authorization_endpoint": site + ENDPOINT_PATHS["authorize"],
        "token_endpoint": site + ENDPOINT_PATHS["token"],
        "revocation_endpoint": site + ENDPOINT_PATHS["revoke"],
        "introspection_endpoint": site + ENDPOINT_PATHS["introspect"],
        "userinfo_endpoint": site + ENDPOINT_PATHS["userinfo"],
        "jwks_uri": site + ENDPOINT_PATHS["jwks"],
        "scopes_supported": sorted(scopes.defined_scopes()),
        "response_types_supported": response_types,
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": grant_types,
        "token_endpoint_auth_methods_supported": [*auth_methods, "none"],
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256", "plain"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [signing.configured_algorithm()],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "preferred_username",
            "email",
        ],
        "authorization_response_iss_parameter_supported": True,
    }


@login_not_required
@require_GET
@cache_control(public=True, max_age=300)
def metadata(request: HttpRequest) -> JsonResponse:
    """``/.well-known/oauth-authorization-server`` and ``/.well-known/openid-configuration``."""
    return JsonResponse(server_metadata())


def _bearer_error(error: BearerError) -> JsonResponse:
    response = JsonResponse(error.as_json(), status=error.status)
    response["WWW-Authenticate"] = error.www_authenticate()
    return _no_store(response)


@csrf_exempt  # bearer-token authenticated: no cookies are involved
@login_not_required
@require_http_methods(["GET", "POST"])
def userinfo(request: HttpRequest) -> JsonResponse:
    """``/oauth2/userinfo`` (OpenID Connect): the signed-in user behind a token with ``openid``."""
    try:
        token = bearer.require(request.headers.get("Authorization", ""), [scopes.OPENID_SCOPE])
        if token.user is None:
            raise BearerError(403, "insufficient_scope", "The token was issued to a client, not for a user.")
    except BearerError as error:
        return _bearer_error(error)
    user = token.user
    claims = {"sub": str(user.pk), "preferred_username": user.get_username()}
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    if full_name:
        claims["name"] = full_name
    if "email" in token.scopes and user.email:
        claims["email"] = user.email
    return _no_store(JsonResponse(claims))


@login_not_required
@require_GET
def sample_hello(request: HttpRequest) -> JsonResponse:
    """``/sample/hello``: a protected resource; ``?scope=a b`` names the scopes it should demand."""
    required = request.GET.get("scope", "").split() or [SAMPLE_REQUIRED_SCOPE]
    try:
        token = bearer.require(request.headers.get("Authorization", ""), required)
    except BearerError as error:
        return _bearer_error(error)
    return JsonResponse(
        {
            "message": "Hello",
            "clientId": token.client_id,
            "scopes": token.scopes,
            "expiresAt": token.expires_at.isoformat() if token.expires_at else None,
            "tokenType": token.token_type,
        }
    )
