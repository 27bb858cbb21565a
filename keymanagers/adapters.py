"""Imports every adapter module so that each registers itself with ``keymanagers.base.register``."""

from keymanagers.resident import adapter as _resident  # noqa: F401
