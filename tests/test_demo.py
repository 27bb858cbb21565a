"""The demo data command: the printed logins work, and running it twice changes nothing."""

from __future__ import annotations

import base64
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from keys.models import ApplicationKey, KeyType
from portal.models import Application

User = get_user_model()


def _run() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_data_prints_logins_that_work():
    output = _run()

    assert "demo / demo-portal-2026" in output
    assert "admin / admin-portal-2026" in output
    client = Client()
    assert client.login(username="demo", password="demo-portal-2026")
    assert client.login(username="admin", password="admin-portal-2026")
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.get(username="demo").is_staff


@pytest.mark.django_db
def test_the_demo_developer_owns_the_weather_app():
    _run()

    application = Application.objects.get(name="Weather App")
    assert application.owner.username == "demo"
    client = Client()
    client.login(username="demo", password="demo-portal-2026")
    assert "Weather App" in client.get("/applications/").content.decode()


@pytest.mark.django_db
def test_running_the_demo_twice_creates_nothing_new_and_restores_the_passwords():
    _run()
    demo = User.objects.get(username="demo")
    demo.set_password("changed by a visitor 123")
    demo.save()

    output = _run()

    assert "already there" in output
    assert User.objects.filter(username__in=["demo", "admin"]).count() == 2
    assert Application.objects.filter(name="Weather App").count() == 1
    assert Client().login(username="demo", password="demo-portal-2026")


def _printed(output: str, label: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith(label))
    return line[len(label) :].strip()


@pytest.mark.django_db
def test_the_weather_app_gets_production_keys_whose_printed_secret_gets_a_token():
    output = _run()

    key = ApplicationKey.objects.get(application__name="Weather App")
    assert key.key_type == KeyType.PRODUCTION
    assert f"consumer key {key.consumer_key}" in output
    secret = _printed(output, "Consumer secret (shown once):")
    assert secret
    assert secret not in str(list(ApplicationKey.objects.values()))

    response = Client().post(
        "/oauth2/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{key.consumer_key}:{secret}".encode()).decode(),
    )
    assert response.status_code == 200, response.content
    assert response.json()["access_token"]


@pytest.mark.django_db
def test_a_second_run_keeps_the_keys_and_shows_no_secret():
    _run()
    first_key = ApplicationKey.objects.get()

    output = _run()

    assert ApplicationKey.objects.get() == first_key
    assert "Consumer secret" not in output
    assert f"consumer key {first_key.consumer_key} (already there)" in output
