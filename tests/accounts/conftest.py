import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Sign-in failures are counted in the cache; one test's failures must not lock out the next's user.
    cache.clear()
    yield
    cache.clear()
