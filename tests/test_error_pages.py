"""The 404 and 500 pages: ours, plain, and CSP-clean."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def _boom(request):
    raise RuntimeError("an unexpected failure")


urlpatterns = [path("boom/", _boom), *portal_urlpatterns]


@pytest.mark.django_db
def test_an_unknown_page_is_our_404(client):
    response = client.get("/does-not-exist/")

    assert response.status_code == 404
    content = response.content.decode()
    assert "Page not found" in content
    assert "/static/css/portal.css" in content


@pytest.mark.django_db
def test_a_crash_shows_our_500_page_without_details(settings):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)

    response = client.get("/boom/")

    assert response.status_code == 500
    content = response.content.decode()
    assert "Something went wrong" in content
    assert "an unexpected failure" not in content
    assert "Traceback" not in content
    assert "<script" not in content and "style=" not in content
