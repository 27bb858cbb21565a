"""Personas and shared fixtures. Area-specific fixtures live in each test folder's conftest."""

from __future__ import annotations

import importlib
import os

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

PASSWORD = "correct horse battery staple"


def _user(username: str, **extra):
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: sign-in failures and rate-limit counts (per user id,
    per 127.0.0.1) must not carry over from earlier tests, in memory or in CI's shared Redis (where
    each xdist worker has its own key prefix, and clearing deletes only that prefix)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def owner(db):
    """An app developer who owns the applications under test."""
    return _user("alice")


@pytest.fixture
def other_developer(db):
    """Another developer: must never see or touch the owner's things."""
    return _user("mallory")


@pytest.fixture
def admin_user(db):
    return _user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def anonymous_client():
    return Client()


@pytest.fixture
def owner_client(owner):
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def other_client(other_developer):
    client = Client()
    client.force_login(other_developer)
    return client


@pytest.fixture
def admin_client_(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def csrf_owner_client(owner):
    """The owner's browser session with CSRF checks on, as a real browser meets them."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    return client


def pytest_collection_modifyitems(config, items):
    # In CI a skipped browser or PostgreSQL test would be a silent hole: make skips fail there.
    if os.environ.get("CI", "").lower() == "true":
        config.option.ci_no_skip = True
    # A transactional test flushes every table, including rows that migrations create (the Resident
    # key manager, the default scope, content types): restore them afterwards for the tests that follow.
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(
                pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True}),
                append=False,
            )


def pytest_configure(config):
    config.option.ci_no_skip = False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (
        getattr(item.config.option, "ci_no_skip", False)
        and report.skipped
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {report.longrepr}"


def reseed_migration_data() -> None:
    """Transactional tests flush every table, taking the data migrations' rows with them, and
    ``serialized_rollback`` collides with the content types a flush re-creates. Run those
    migrations' functions again instead, so the rows are exactly the migrated ones."""
    from django.apps import apps

    for module, function in [
        ("keymanagers.migrations.0002_resident_key_manager", "create_resident"),
        ("keys.migrations.0002_default_scope", "create_default_scope"),
    ]:
        getattr(importlib.import_module(module), function)(apps, None)
