"""The ceiling: Django with no middleware, no apps and no database, one view answering ``ok``.

Served by bench/run as ``gunicorn --chdir bench bare:application``; whatever a row loses against
this one is spent in middleware, the view, the ORM and the database.
"""

import secrets

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1"],
    SECRET_KEY=secrets.token_urlsafe(48),
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
)


def hello(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("", hello)]

application = get_wsgi_application()
