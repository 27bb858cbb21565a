"""Imports every adapter module so that each registers itself with ``keymanagers.base.register``."""

from keymanagers import keycloak as _keycloak  # noqa: F401
from keymanagers import oidc_dcr as _oidc_dcr  # noqa: F401
from keymanagers import okta as _okta  # noqa: F401
from keymanagers.resident import adapter as _resident  # noqa: F401
