"""The reference's vocabulary (devportal-api.yaml) and ours: names, aliases, request bodies.

The services speak snake_case and our own names; this module is the one place where the REST
API's names are mapped to them and back. The built-in key manager is "Resident Key Manager" of
type ``default``; ``additionalProperties`` take the reference's names (``pkceSupportPlain``,
``client_secret_description``, ``client_secret_expires_in``, ``"N/A"`` for a default expiry) and
our earlier ones on input. A field or property we do not take is a 400 naming it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from keymanagers.base import EXPIRY_DEFAULTS, KeyManagerAdapter
from keymanagers.models import KeyManager
from keys import selectors
from keys.config import EXPIRY_FIELDS
from keys.forms import DEFAULT_GRANT_TYPES
from keys.secrets.rules import SecretError, secret_expiry_from_seconds
from portal.api_errors import ApiError

# Service field name → the API's name for it, so a 400 names what the caller sent.
API_FIELD_NAMES = {
    "key_type": "keyType",
    "grant_types": "grantTypesToBeSupported",
    "callback_url": "callbackUrl",
    "scopes": "scopes",
    "validity_time": "validityTime",
    "validity_period": "validityPeriod",
    "consumer_key": "consumerKey",
    "consumer_secret": "consumerSecret",
    "grant_type": "grantType",
    "secret_description": "additionalProperties.client_secret_description",
    "secret_expires_at": "additionalProperties.client_secret_expires_in",
    "pkce_mandatory": "additionalProperties.pkceMandatory",
    "pkce_support_plain": "additionalProperties.pkceSupportPlain",
    "bypass_client_credentials": "additionalProperties.bypassClientCredentials",
    **{name: f"additionalProperties.{name}" for name in EXPIRY_FIELDS},
}
# The reference's name of the built-in key manager, and its type, as the API shows them. The row
# keeps its slug ``Resident`` (the pages' URLs use it) and its type ``resident`` (the adapter
# registry's key): the vocabulary is mapped here, and the old name is accepted on input.
DEFAULT_KEY_MANAGER = "Resident Key Manager"
KEY_MANAGER_ALIASES = {DEFAULT_KEY_MANAGER: "Resident"}
API_KEY_MANAGER_TYPES = {KeyManager.Type.RESIDENT: "default"}

# additionalProperties keys → Key Configurations fields: the reference's names, then our earlier ones.
FLAG_PROPERTIES = {
    "pkceMandatory": "pkce_mandatory",
    "pkceSupportPlain": "pkce_support_plain",
    "bypassClientCredentials": "bypass_client_credentials",
}
FLAG_ALIASES = {"pkceSupportPlainText": "pkceSupportPlain"}
# The first secret's description and lifetime (multiple-secret mode): the reference's names first.
SECRET_DESCRIPTION = ("client_secret_description", "description")
SECRET_EXPIRES_IN = ("client_secret_expires_in", "expiresIn")
# The reference's value for "the key manager's default" in an expiry field.
NOT_APPLICABLE = "N/A"


def api_key_manager_name(km) -> str:
    """The name a key manager has in this API (the built-in one: the reference's name)."""
    for api_name, name in KEY_MANAGER_ALIASES.items():
        if km.name == name and km.type == KeyManager.Type.RESIDENT:
            return api_name
    return km.name


def api_key_manager_type(km) -> str:
    return API_KEY_MANAGER_TYPES.get(km.type, km.type)


def supported_properties(km, adapter: KeyManagerAdapter, *, first_secret: bool) -> list[str]:
    """The ``additionalProperties`` names this key manager takes (the reference's names)."""
    names = [*EXPIRY_FIELDS, *FLAG_PROPERTIES]
    names += [item["name"] for item in adapter.application_configuration() if item.get("name")]
    if first_secret and km.multiple_secrets_enabled:
        names += [SECRET_DESCRIPTION[0], SECRET_EXPIRES_IN[0]]
    return names


def check_properties(props: dict, km, adapter: KeyManagerAdapter, *, first_secret: bool) -> dict:
    """``additionalProperties`` in the reference's names, refusing any name this key manager does not
    take (a 400 naming it and what is supported: nothing is silently ignored)."""
    if not isinstance(props, dict):
        raise serializers.ValidationError(
            {"additionalProperties": ["Give the additional properties as an object."]}
        )
    props = dict(props)
    for old, new in FLAG_ALIASES.items():
        if old in props:
            props.setdefault(new, props.pop(old))
    for names in (SECRET_DESCRIPTION, SECRET_EXPIRES_IN):
        if names[1] in props:
            props.setdefault(names[0], props.pop(names[1]))
    supported = supported_properties(km, adapter, first_secret=first_secret)
    unknown = sorted(set(props) - set(supported))
    if unknown:
        if first_secret and not km.multiple_secrets_enabled:
            hint = " (the first secret's description and lifetime need multiple consumer secrets)"
        else:
            hint = ""
        raise ApiError(
            400,
            "Invalid application additional properties",
            f"Unknown additionalProperties: {', '.join(unknown)}. {api_key_manager_name(km)} takes: "
            f"{', '.join(supported)}{hint}.",
            errors=[
                {"code": "unknown", "message": f"additionalProperties.{name}: Unknown property."}
                for name in unknown
            ],
            reference_code=INVALID_ADDITIONAL_PROPERTIES,
        )
    for name in EXPIRY_FIELDS:
        if props.get(name) == NOT_APPLICABLE:
            props[name] = EXPIRY_DEFAULTS[name]
    return props


# The reference's error code for invalid additionalProperties (INVALID_APPLICATION_ADDITIONAL_PROPERTIES).
INVALID_ADDITIONAL_PROPERTIES = 900970


def in_api_names(exc: DjangoValidationError) -> serializers.ValidationError:
    """A service's ``ValidationError`` with its fields named as the caller sent them."""
    if not hasattr(exc, "error_dict"):
        return serializers.ValidationError(exc.messages)
    detail: dict[str, list[str]] = {}
    for name, messages in exc.message_dict.items():
        if name.startswith("additional_properties."):
            api_name = "additionalProperties." + name.split(".", 1)[1]
        else:
            api_name = API_FIELD_NAMES.get(name, name)
        detail.setdefault(api_name, []).extend(messages)
    return serializers.ValidationError(detail)


def config_from_body(data: dict, available: list[str], props: dict) -> dict[str, Any]:
    """The API body's Key Configurations in the services' snake_case (``props``: the checked
    ``additionalProperties``)."""
    props = dict(props)
    grant_types = data.get("grantTypesToBeSupported")
    if grant_types is None:
        grant_types = [g for g in DEFAULT_GRANT_TYPES if g in available]
    config: dict[str, Any] = {"grant_types": grant_types, "callback_url": data.get("callbackUrl") or ""}
    for name in EXPIRY_FIELDS:
        if name in props:
            config[name] = props.pop(name)
    for api_name, name in FLAG_PROPERTIES.items():
        if api_name in props:
            config[name] = props.pop(api_name)
    for name in (SECRET_DESCRIPTION[0], SECRET_EXPIRES_IN[0]):
        props.pop(name, None)
    config["additional_properties"] = props
    return config


def first_secret_expiry(props: dict):
    """``expiresIn`` seconds → the first secret's expiry time (None = never), by the same rule as
    ``generate-secret``."""
    try:
        return secret_expiry_from_seconds(props.get(SECRET_EXPIRES_IN[0]))
    except SecretError as exc:
        raise serializers.ValidationError(
            {f"additionalProperties.{SECRET_EXPIRES_IN[0]}": [exc.description]}
        ) from None


def first_secret_description(props: dict) -> str:
    value = props.get(SECRET_DESCRIPTION[0]) or ""
    if not isinstance(value, str):
        raise serializers.ValidationError(
            {f"additionalProperties.{SECRET_DESCRIPTION[0]}": ["Give the description as text."]}
        )
    return value


def enabled_key_manager(name: str):
    """The enabled key manager a body names (its API name or ours); a 400 on ``keyManager`` if none."""
    km = selectors.key_manager_get_enabled(name=KEY_MANAGER_ALIASES.get(name, name))
    if km is None:
        raise serializers.ValidationError(
            {"keyManager": [f"There is no enabled key manager named “{name}”."]}
        )
    return km
