"""WSGI entry point for gunicorn: ``gunicorn portal.wsgi``."""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY and not settings.DEBUG:
    # Serving with the well-known development key would let anyone forge sessions.
    raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set to serve with DEBUG off")
