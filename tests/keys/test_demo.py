"""Demo keys: Production keys at the Resident key manager, made once."""

from __future__ import annotations

from keys.demo import load_keys_demo
from keys.models import ApplicationKey
from tests.keys.helpers import token_at_endpoint


def test_demo_keys_are_generated_once_and_work(client, application, resident):
    generated = load_keys_demo(application)

    assert generated is not None
    key = ApplicationKey.objects.get()
    assert (key.key_type, key.key_manager, key.key_state) == ("PRODUCTION", resident, "COMPLETED")
    assert token_at_endpoint(client, key.consumer_key, generated.consumer_secret).status_code == 200
    assert load_keys_demo(application) is None
    assert ApplicationKey.objects.count() == 1


def test_no_demo_keys_when_the_resident_key_manager_is_disabled(application, resident):
    resident.enabled = False
    resident.save()
    assert load_keys_demo(application) is None
    assert not ApplicationKey.objects.exists()
