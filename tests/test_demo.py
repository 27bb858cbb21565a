"""The demo data command: the printed logins work, and running it twice changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

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
