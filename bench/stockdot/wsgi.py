"""WSGI entry point of the stock DOT project (``gunicorn --chdir bench stockdot.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stockdot.settings")
application = get_wsgi_application()
