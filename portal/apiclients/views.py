"""``POST /client-registration/v0.17/register``: the reference's dynamic client registration for
the REST API, with the user's own credentials in HTTP Basic.

Errors are the REST API's JSON errors. The credentials go through the portal's sign-in form, so
the sign-in failure limit (per username and address, per username, per address) applies to this
door too; every attempt is also counted per claimed username and per address
(``PORTAL_RATELIMIT_OAUTH_CLIENT`` / ``_OAUTH_ADDRESS``, like the token endpoint).
"""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.forms import SIGNIN_WINDOW_SECONDS, RateLimitedAuthenticationForm
from portal.api_errors import ApiError
from portal.apiclients.services import SUPPORTED_GRANT_TYPES, api_client_register
from portal.ratelimit import client_address, hit_all

REALM = "client-registration"


class RegistrationBasicAuthentication(BaseAuthentication):
    """HTTP Basic with the user's portal username and password, limited like the sign-in page."""

    def authenticate_header(self, request) -> str:
        return f'Basic realm="{REALM}"'

    def authenticate(self, request):
        scheme, _, value = get_authorization_header(request).decode("latin-1").partition(" ")
        if scheme.lower() != "basic" or not value.strip():
            raise exceptions.NotAuthenticated(
                "Send your portal username and password as HTTP Basic credentials."
            )
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise exceptions.AuthenticationFailed(
                "The Basic credentials are not valid base64 of username:password."
            ) from None
        username, sep, password = decoded.partition(":")
        if not sep or not username:
            raise exceptions.AuthenticationFailed("The Basic credentials must be username:password.")
        wait = hit_all(
            request._request,
            ("register.user", "user:" + username.lower(), settings.PORTAL_RATELIMIT_OAUTH_CLIENT),
            ("register.address", client_address(request), settings.PORTAL_RATELIMIT_OAUTH_ADDRESS),
        )
        if wait:
            raise exceptions.Throttled(wait, f"Too many registration requests: retry after {wait} seconds.")
        form = RateLimitedAuthenticationForm(
            request._request, data={"username": username, "password": password}
        )
        if not form.is_valid():
            if any(error.code == "too_many_attempts" for error in form.errors.as_data().get("__all__", [])):
                raise exceptions.Throttled(
                    SIGNIN_WINDOW_SECONDS, "Too many failed sign-in attempts. Wait 15 minutes and try again."
                )
            raise exceptions.AuthenticationFailed("Wrong username or password.")
        return form.get_user(), None


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true``/``false`` only: DRF's field would also take "yes", "on", 1, …"""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictCharField(serializers.CharField):
    """JSON strings only: DRF's field would turn 7 into "7"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RegistrationIn(serializers.Serializer):
    """The reference's registration body (its DCR ``RegistrationProfile``)."""

    callbackUrl = StrictCharField(required=False, allow_blank=True, max_length=2000, default="")
    clientName = StrictCharField(max_length=255)
    owner = StrictCharField(required=False)
    grantType = StrictCharField(required=False, allow_blank=True, default="")
    saasApp = StrictBooleanField(required=False, default=False)

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                f"Unsupported field(s) {', '.join(unknown)}; supported: {', '.join(self.fields)}."
            )
        return attrs

    def validate_grantType(self, value: str) -> list[str]:
        supported = [g.value for g in SUPPORTED_GRANT_TYPES]
        names = list(dict.fromkeys(value.split())) or [supported[0]]
        unsupported = [name for name in names if name not in supported]
        if unsupported:
            raise serializers.ValidationError(
                f"Unsupported grant type(s) {', '.join(unsupported)}; supported: {', '.join(supported)} "
                "(password only where an admin offers it on the Resident key manager)."
            )
        return names


# Outside the API's base path: the reference's document describes it in prose only, and so does
# ours (the OAuth2Security scheme's description, portal/apiclients/authentication.py).
@extend_schema_view(post=extend_schema(exclude=True))
class ClientRegistrationApi(APIView):
    authentication_classes = (RegistrationBasicAuthentication,)
    permission_classes = (IsAuthenticated,)

    def post(self, request):
        if not isinstance(request.data, dict):
            raise ApiError(400, description="The body must be a JSON object.")
        body = RegistrationIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("owner", request.user.get_username()) != request.user.get_username():
            raise ApiError(
                403,
                description="owner must be the user whose credentials are sent: a client is registered "
                "for yourself only.",
            )
        registration = api_client_register(
            owner=request.user,
            client_name=data["clientName"],
            callback_url=data["callbackUrl"],
            grant_types=data["grantType"],
            saas_app=data["saasApp"],
        )
        # The reference answers 200 with the client's credentials; the secret is shown only here.
        return Response(
            registration.as_reference_json(),
            status=200,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )
