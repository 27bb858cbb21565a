"""HTTP endpoints of the resident authorization server, and the sample protected resource.

Token, authorize and revoke are DOT's views (driven by ``ResidentValidator``/``ResidentServer``);
introspection, JWKS, userinfo and the metadata documents are ours, because DOT's versions assume
its own key settings, scope-protected introspection and one signing key per client.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from oauth2_provider.compat import login_not_required
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import AuthorizationView, RevokeTokenView, TokenView

from keymanagers.models import GrantType, KeyManager, OAuthClient
from keymanagers.resident import bearer, scopes, signin, signing
from keymanagers.resident.adapter import ENDPOINT_PATHS, SERVED_GRANT_TYPES
from keymanagers.resident.bearer import BearerError
from keymanagers.resident.server import oauthlib_core

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


# RFC 8707 lets a client repeat ``resource``; every other parameter appears at most once.
REPEATABLE_PARAMETERS = {"resource"}


def _invalid_request(description: str) -> HttpResponse:
    body = {"error": "invalid_request", "error_description": description}
    return _no_store(JsonResponse(body, status=400))


def _repeated_parameter(request: HttpRequest) -> str | None:
    """The first parameter sent more than once (RFC 6749 3.1, 3.2: "MUST NOT be included more
    than once"); oauthlib would silently use the last value."""
    for source in (request.GET, request.POST):
        for name, values in source.lists():
            if len(values) > 1 and name not in REPEATABLE_PARAMETERS:
                return name
    return None


def _refuse_repeated_parameters(request: HttpRequest) -> HttpResponse | None:
    name = _repeated_parameter(request)
    if name is not None:
        return _invalid_request(f"The parameter {name} was sent more than once.")
    return None


class ResidentTokenView(TokenView):
    """``/oauth2/token``: every grant goes through oauthlib (the device flow is not offered)."""

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def post(self, request, *args, **kwargs):
        refused = _refuse_repeated_parameters(request)
        if refused is not None:
            return refused
        if not request.POST.get("grant_type"):
            # oauthlib falls back to the code grant and answers unsupported_grant_type; a missing
            # required parameter is invalid_request (RFC 6749 5.2).
            return _invalid_request("The grant_type parameter is missing.")
        if app_authorized.has_listeners():
            response = self.authorization_flow_token_response(request)
        else:
            # DOT reads the new token back from the database only to send ``app_authorized``;
            # with no receiver that is a query per token request for nothing.
            _url, headers, body, status = self.create_token_response(request)
            response = HttpResponse(content=body, status=status)
            for name, value in headers.items():
                response[name] = value
        if response["Content-Type"].startswith("text/html"):
            # oauthlib leaves Content-Type out of errors raised after validation (a code redeemed
            # twice at once); the body is JSON all the same.
            response["Content-Type"] = "application/json"
        return _no_store(_client_auth_challenge(response))


class ResidentRevokeView(RevokeTokenView):
    """``/oauth2/revoke`` (RFC 7009): a client revokes its own tokens; a resource server any."""

    def post(self, request, *args, **kwargs):
        refused = _refuse_repeated_parameters(request)
        if refused is not None:
            return refused
        return _no_store(_client_auth_challenge(super().post(request, *args, **kwargs)))


# OpenID Connect Core 3.1.2.1 prompt values the portal honours. select_account (and create) are
# refused with a clear invalid_request: one browser session holds one account, and sign-up does
# not return to the authorization request.
SUPPORTED_PROMPTS = ("none", "login", "consent")


def with_issuer(uri: str) -> str:
    """``uri`` with RFC 9207's ``iss`` (exactly one): in the fragment for a fragment response."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
    fragment = [(k, v) for k, v in parse_qsl(parts.fragment, keep_blank_values=True) if k != "iss"]
    if parts.fragment:
        fragment.append(("iss", settings.RESIDENT_ISSUER))
    else:
        query.append(("iss", settings.RESIDENT_ISSUER))
    return urlunsplit(parts._replace(query=urlencode(query), fragment=urlencode(fragment)))


def _without(request: HttpRequest, *, prompts: tuple[str, ...] = (), drop: tuple[str, ...] = ()) -> str:
    """This request's path and query, less some prompt values and parameters: where a sign-in
    continues (asking again for ``login`` after signing in would never end)."""
    query = []
    for name, value in request.GET.items():
        if name in drop:
            continue
        if name == "prompt":
            value = " ".join(p for p in value.split() if p not in prompts)
            if not value:
                continue
        query.append((name, value))
    return request.path + ("?" + urlencode(query) if query else "")


class ResidentAuthorizationView(AuthorizationView):
    """``/oauth2/authorize``: sign-in, the consent page (templates/oauth2_provider/authorize.html),
    ``prompt`` and ``max_age`` (OpenID Connect Core 3.1.2.1), and ``iss`` on every redirect to the
    client, errors included (RFC 9207 2)."""

    def get_login_url(self):
        return reverse("resident-sign-in")

    def redirect(self, redirect_to, application):
        return super().redirect(with_issuer(redirect_to), application)

    def _sign_in(self, next_url: str) -> HttpResponse:
        return redirect_to_login(next_url, self.get_login_url(), self.get_redirect_field_name())

    def _error(self, error: str, description: str, credentials: dict) -> HttpResponse:
        """An error redirect to the (already validated) callback, with state and iss."""
        params = {"error": error, "error_description": description}
        if credentials.get("state"):
            params["state"] = credentials["state"]
        redirect_uri = credentials["redirect_uri"]
        separator = "&" if "?" in redirect_uri else "?"
        application = OAuthClient.objects.filter(client_id=credentials["client_id"]).first()
        return self.redirect(redirect_uri + separator + urlencode(params), application)

    def _prompt_refusal(self, prompt: list[str], credentials: dict) -> HttpResponse | None:
        unsupported = [p for p in prompt if p not in SUPPORTED_PROMPTS]
        if unsupported:
            return self._error(
                "invalid_request",
                f"prompt={unsupported[0]} is not supported (supported: {', '.join(SUPPORTED_PROMPTS)}).",
                credentials,
            )
        if "none" in prompt and len(prompt) > 1:
            return self._error(
                "invalid_request", "prompt=none cannot be combined with other values.", credentials
            )
        return None

    def _max_age(self, credentials: dict) -> int | None | HttpResponse:
        raw = self.request.GET.get("max_age")
        if raw is None:
            return None
        if not (raw.isascii() and raw.isdigit()):  # "²" is a digit to str.isdigit, not to int()
            return self._error("invalid_request", "max_age must be a whole number of seconds.", credentials)
        return int(raw)

    def handle_no_permission(self):
        prompt = self.request.GET.get("prompt", "").split()
        if prompt and prompt != ["none"]:
            try:
                _, credentials = self.validate_authorization_request(self.request)
            except OAuthToolkitError as error:
                return self.error_response(error, application=None)
            refused = self._prompt_refusal(prompt, credentials)
            if refused is not None:
                return refused
        if "none" in prompt:
            return super().handle_no_permission()  # login_required to the callback (via redirect)
        # Signing in now satisfies login and max_age: the request continues without them.
        return self._sign_in(_without(self.request, prompts=("login",), drop=("max_age",)))

    def get(self, request, *args, **kwargs):
        prompt = request.GET.get("prompt", "").split()
        if not prompt and "max_age" not in request.GET:
            return super().get(request, *args, **kwargs)
        try:
            _, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        refused = self._prompt_refusal(prompt, credentials)
        if refused is not None:
            return refused
        max_age = self._max_age(credentials)
        if isinstance(max_age, HttpResponse):
            return max_age
        signed_in_at = signin.auth_time(request)
        too_old = max_age is not None and (signed_in_at is None or time.time() - signed_in_at > max_age)
        if "login" in prompt or too_old:
            if "none" in prompt:
                return self._error("login_required", "The user must sign in again.", credentials)
            return self._sign_in(_without(request, prompts=("login",), drop=("max_age",)))
        if "consent" in prompt:
            # DOT reads this to decide between remembered consent and the page.
            request.GET = request.GET.copy()
            request.GET["approval_prompt"] = "force"
        response = super().get(request, *args, **kwargs)
        if "none" in prompt and isinstance(response, TemplateResponse) and response.status_code == 200:
            # The consent page would be shown: a silent request must not show it.
            return self._error(
                "consent_required", "The user has not approved these scopes for this client.", credentials
            )
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["scope_items"] = list(
            zip(kwargs.get("scopes", []), kwargs.get("scopes_descriptions", []), strict=False)
        )
        application = kwargs.get("application")
        if application is not None:
            context["client_name"] = signin.consent_name(application)
            context["developer_name"] = signin.developer_name(application)
            context["callback_host"] = urlsplit(kwargs.get("redirect_uri") or "").netloc
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if not context.get("error") and context.get("redirect_uri"):
            # Authorize and Cancel end in a redirect to this (validated) callback.
            signin.allow_form_redirect_to(response, context["redirect_uri"])
        return response


@csrf_exempt  # client-authenticated, not a browser form (RFC 7662)
@login_not_required
@require_POST
def introspect(request: HttpRequest) -> HttpResponse:
    """``/oauth2/introspect`` (RFC 7662): a client sees its own tokens; a resource server every token.

    Only a confidential client with a valid secret (or a resource server) may ask:
    ``ResidentServer.validate_introspect_request``.
    """
    refused = _refuse_repeated_parameters(request)
    if refused is not None:
        return refused
    core = oauthlib_core()
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
        # A public client revokes its own tokens with its client_id alone (RFC 7009 2.1).
        "revocation_endpoint_auth_methods_supported": [*auth_methods, "none"],
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
        "prompt_values_supported": list(SUPPORTED_PROMPTS),
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
