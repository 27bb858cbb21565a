"""REST API for applications: ``/api/am/devportal/v3/applications[/{applicationId}]``.

Field names follow the reference portal's Devportal REST API v3. One view per URL, one method per
operation, each with its input and output serializers beside it; the writes go through
``portal.applications.services`` exactly as the pages do.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from keymanagers.base import KeyManagerError
from keys.api import api_key_manager_name
from portal.api_errors import ApiError, documented_errors
from portal.api_formats import EpochMillisField, StrictSerializer
from portal.applications import selectors, services
from portal.models import Application, ApplicationAttribute, TokenType

# The throttling policies an application may name. The portal throttles no application traffic
# (it has no gateway), so it offers the one policy that promises nothing: any other is a 400.
THROTTLING_POLICIES = (services.DEFAULT_THROTTLING_POLICY,)
# Fields of the reference's Application the portal has no feature for: accepted, ignored, documented.
IGNORED_FIELDS = ("groups", "subscriptionScopes", "visibility")
ATTRIBUTES_HELP = (
    "The admin's application attributes, by name (GET /settings/application-attributes lists them): "
    "unknown or hidden names are a 400, a required one left empty takes its default or is a 400."
)
# Read-only fields of the reference's Application, which a client may send back in a PUT.
READ_ONLY_FIELDS = (
    "applicationId",
    "status",
    "subscriptionCount",
    "keys",
    "owner",
    "hashEnabled",
    "createdTime",
    "updatedTime",
)

ERROR_DESCRIPTIONS = {
    400: "Bad request: invalid input (the body names the fields).",
    401: "Not authenticated: send a session cookie or `Authorization: Bearer dpt_…`.",
    403: "Forbidden (for session authentication, a missing or wrong CSRF token).",
    404: "No such application (or it belongs to someone else).",
    409: "Conflict: an application with this name already exists.",
    502: "A key manager failed; nothing was deleted.",
}


def error_responses(*codes: int) -> dict:
    return documented_errors(ERROR_DESCRIPTIONS, *codes)


class ApplicationKeyOutputSerializer(serializers.Serializer):
    keyMappingId = serializers.UUIDField(source="id")
    keyManager = serializers.SerializerMethodField()
    keyType = serializers.CharField(source="key_type")
    consumerKey = serializers.CharField(source="consumer_key")
    supportedGrantTypes = serializers.ListField(source="supported_grant_types", child=serializers.CharField())
    callbackUrl = serializers.CharField(source="callback_url")
    keyState = serializers.CharField(source="key_state")
    mode = serializers.CharField()

    def get_keyManager(self, key) -> str:  # noqa: N802 - the API's field name
        return api_key_manager_name(key.key_manager)


class ApplicationOutputSerializer(serializers.Serializer):
    applicationId = serializers.UUIDField(source="id")
    name = serializers.CharField()
    throttlingPolicy = serializers.CharField(source="throttling_policy")
    description = serializers.CharField()
    tokenType = serializers.ChoiceField(source="token_type", choices=TokenType.values)
    status = serializers.CharField()
    owner = serializers.CharField(source="owner.get_username")
    keys = ApplicationKeyOutputSerializer(many=True)
    attributes = serializers.SerializerMethodField(
        help_text="Attribute values by name (hidden ones left out)."
    )
    groups = serializers.SerializerMethodField(help_text="Always empty: no application sharing.")
    subscriptionCount = serializers.SerializerMethodField(
        help_text="Always 0: the portal has no subscriptions."
    )
    subscriptionScopes = serializers.SerializerMethodField(help_text="Always empty: no subscriptions.")
    hashEnabled = serializers.SerializerMethodField(
        help_text="Always false: consumer secrets are shown once, in the answer that made them."
    )
    createdTime = EpochMillisField(source="created_at")
    updatedTime = EpochMillisField(source="updated_at")

    def get_attributes(self, application) -> dict[str, str]:
        # One query per answer, not per application: the list shares the root's set.
        root = self.root
        if not hasattr(root, "_hidden_attributes"):
            root._hidden_attributes = services.hidden_attribute_names()
        return services.visible_attributes(application, root._hidden_attributes)

    def get_groups(self, application) -> list[str]:
        return []

    def get_subscriptionCount(self, application) -> int:  # noqa: N802
        return 0

    def get_subscriptionScopes(self, application) -> list[dict]:  # noqa: N802
        return []

    def get_hashEnabled(self, application) -> bool:  # noqa: N802
        return False


class PaginationSerializer(serializers.Serializer):
    offset = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField(help_text="Number of applications matching the query, in all pages.")
    next = serializers.CharField(
        help_text="The next page, relative to the base path (/applications?limit=…&offset=…); empty on the last page."
    )
    previous = serializers.CharField(help_text="The previous page, likewise; empty on the first page.")


class ApplicationListOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Number of applications in this page.")
    list = ApplicationOutputSerializer(many=True)
    pagination = PaginationSerializer()


class ApplicationInputSerializer(StrictSerializer):
    """Body of POST and PUT. PUT replaces: a field left out takes its default, as at creation.
    Unknown fields are a 400; ``groups``, ``subscriptionScopes``, ``visibility`` (features the
    portal does not have) and the read-only fields of a GET's answer are accepted and ignored."""

    ignored_fields = (*IGNORED_FIELDS, *READ_ONLY_FIELDS)

    # The length is checked after trimming, by the service, so that "  x  " counts as 1 character.
    name = serializers.CharField(trim_whitespace=True)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    tokenType = serializers.ChoiceField(choices=TokenType.values, required=False, default=TokenType.JWT)
    attributes = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, help_text=ATTRIBUTES_HELP
    )
    throttlingPolicy = serializers.CharField(
        required=False,
        default=services.DEFAULT_THROTTLING_POLICY,
        help_text=f"One of: {', '.join(THROTTLING_POLICIES)} (the portal throttles no traffic).",
    )

    def validate_name(self, value: str) -> str:
        try:
            return services.clean_application_name(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def validate_description(self, value: str) -> str:
        if len(value.strip()) > services.DESCRIPTION_MAX_LENGTH:
            raise serializers.ValidationError(
                f"Ensure this field has no more than {services.DESCRIPTION_MAX_LENGTH} characters."
            )
        return value

    def validate_throttlingPolicy(self, value: str) -> str:  # noqa: N802 - DRF names hooks after fields
        if value not in THROTTLING_POLICIES:
            raise serializers.ValidationError(
                f"Unknown throttling policy “{value[:64]}”: use {', '.join(THROTTLING_POLICIES)} "
                "(the portal does not throttle application traffic)."
            )
        return value


def _service_kwargs(data: dict) -> dict:
    kwargs = {
        "name": data["name"],
        "description": data["description"],
        "token_type": data["tokenType"],
        "throttling_policy": data["throttlingPolicy"],
        # Left out of a PUT: the application keeps its attribute values.
        "attributes": data.get("attributes"),
    }
    return kwargs


def _attributes_errors(fn, **kwargs):
    """Run a service, naming the field of its field-by-field refusals (``attributes``: 400); its
    other refusals reach the exception handler as they are."""
    try:
        return fn(**kwargs)
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise serializers.ValidationError(exc.message_dict) from exc


def _with_keys(application: Application) -> Application:
    return selectors.application_with_keys(application)


class ApplicationListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(required=False, default=25, min_value=1, max_value=100)
        # Bounded: the database's OFFSET is a 64-bit integer, and 2**63 was a 500.
        offset = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10**9)
        query = serializers.CharField(required=False, default="", allow_blank=True)
        sortBy = serializers.ChoiceField(choices=list(selectors.SORT_FIELDS), required=False, default="name")
        sortOrder = serializers.ChoiceField(choices=["asc", "desc"], required=False, default="asc")

    @extend_schema(
        operation_id="applicationsGet",
        tags=["Applications"],
        summary="List your applications",
        parameters=[FilterSerializer],
        responses={
            200: ApplicationListOutputSerializer,
            **error_responses(400, 401),
        },
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        qs = selectors.application_list(
            user=request.user,
            query=params["query"],
            sort_by=params["sortBy"],
            sort_order=params["sortOrder"],
            with_keys=True,
        )
        total = qs.count()
        limit, offset = params["limit"], params["offset"]
        page = list(qs[offset : offset + limit])

        def link(new_offset: int) -> str:
            query = {"limit": limit, "offset": new_offset, "query": params["query"]}
            query.update({"sortBy": params["sortBy"], "sortOrder": params["sortOrder"]})
            # Relative to the base path, as the reference's pagination links are.
            return f"/applications?{urlencode(query)}"

        return Response(
            {
                "count": len(page),
                "list": ApplicationOutputSerializer(page, many=True).data,
                "pagination": {
                    "offset": offset,
                    "limit": limit,
                    "total": total,
                    "next": link(offset + limit) if offset + limit < total else "",
                    "previous": link(max(offset - limit, 0)) if offset > 0 else "",
                },
            }
        )

    @extend_schema(
        operation_id="applicationsPost",
        tags=["Applications"],
        summary="Create an application",
        request=ApplicationInputSerializer,
        parameters=[
            OpenApiParameter(
                "Location",
                str,
                OpenApiParameter.HEADER,
                response=[201],
                description="URL of the new application.",
            )
        ],
        responses={201: ApplicationOutputSerializer, **error_responses(400, 401, 403, 409)},
    )
    def post(self, request):
        serializer = ApplicationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = _attributes_errors(
            services.application_create, owner=request.user, **_service_kwargs(serializer.validated_data)
        )
        location = request.build_absolute_uri(
            reverse("api_application", kwargs={"application_id": application.pk})
        )
        return Response(
            ApplicationOutputSerializer(_with_keys(application)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


class ApplicationDetailApi(APIView):
    @extend_schema(
        operation_id="applicationsApplicationIdGet",
        tags=["Applications"],
        summary="Get an application",
        responses={200: ApplicationOutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request, application_id):
        application = selectors.application_get(user=request.user, application_id=application_id)
        return Response(ApplicationOutputSerializer(_with_keys(application)).data)

    @extend_schema(
        operation_id="applicationsApplicationIdPut",
        tags=["Applications"],
        summary="Replace an application's name, description, token type and throttling policy",
        request=ApplicationInputSerializer,
        responses={200: ApplicationOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def put(self, request, application_id):
        application = selectors.application_get(user=request.user, application_id=application_id)
        serializer = ApplicationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _attributes_errors(
            services.application_update,
            application=application,
            actor=request.user,
            **_service_kwargs(serializer.validated_data),
        )
        return Response(ApplicationOutputSerializer(_with_keys(application)).data)

    @extend_schema(
        operation_id="applicationsApplicationIdDelete",
        tags=["Applications"],
        summary="Delete an application, its keys, and its clients at the key managers",
        responses={
            200: OpenApiResponse(description="Deleted (empty body)."),
            **error_responses(401, 403, 404, 502),
        },
    )
    def delete(self, request, application_id):
        application = selectors.application_get(user=request.user, application_id=application_id)
        try:
            services.application_delete(application=application, actor=request.user)
        except KeyManagerError as exc:
            raise ApiError(502, "Bad Gateway", f"The application was not deleted: {exc}") from exc
        return Response(status=status.HTTP_200_OK)


class ApplicationAttributeOutputSerializer(serializers.Serializer):
    attribute = serializers.CharField(source="name")
    description = serializers.CharField()
    required = serializers.SerializerMethodField(help_text='"true" or "false", as the reference types it.')
    hidden = serializers.SerializerMethodField(help_text='"true" or "false".')
    type = serializers.SerializerMethodField(help_text="Always text.")
    tooltip = serializers.CharField(source="description")
    default = serializers.CharField()

    def get_required(self, attribute) -> str:
        return "true" if attribute.required else "false"

    def get_hidden(self, attribute) -> str:
        return "true" if attribute.hidden else "false"

    def get_type(self, attribute) -> str:
        return "text"


class ApplicationAttributeListOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    list = ApplicationAttributeOutputSerializer(many=True)


class ApplicationAttributeListApi(APIView):
    @extend_schema(
        operation_id="settingsApplicationAttributesGet",
        tags=["Applications"],
        summary="The application attributes an application is asked for (hidden ones left out)",
        responses={200: ApplicationAttributeListOutputSerializer, **error_responses(401)},
    )
    def get(self, request):
        attributes = list(ApplicationAttribute.objects.filter(hidden=False))
        return Response(
            {
                "count": len(attributes),
                "list": ApplicationAttributeOutputSerializer(attributes, many=True).data,
            }
        )
