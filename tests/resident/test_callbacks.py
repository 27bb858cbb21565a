"""``regexp=`` callback URLs: RE2 at configuration and at the endpoint, so no pattern can stall a worker."""

from __future__ import annotations

import pytest

from keymanagers.callbacks import MAX_PATTERN_LENGTH, regexp_matches
from keys.config import check_callback_url
from tests.resident.conftest import pkce_pair

pytestmark = pytest.mark.django_db

CATASTROPHIC = r"https://x/(a+)+b"


def authorize_page(browser, client_id, redirect_uri):
    return browser.get(
        "/oauth2/authorize",
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": pkce_pair()[1],
            "code_challenge_method": "S256",
        },
    )


def test_a_catastrophic_pattern_answers_at_once_with_a_long_uri(owner_client, make_client):
    # With Python's backtracking re this request would not finish: (a+)+b against a's and no b.
    _, registered = make_client(callback_url=f"regexp={CATASTROPHIC}")
    page = authorize_page(owner_client, registered.ref.client_id, "https://x/" + "a" * 5000)
    assert page.status_code == 400
    assert b"Authorization failed" in page.content


def test_the_catastrophic_pattern_is_matched_in_linear_time_below_the_length_cap():
    assert not regexp_matches(CATASTROPHIC, "https://x/" + "a" * 2000)
    assert regexp_matches(CATASTROPHIC, "https://x/" + "a" * 2000 + "b")


def test_the_catastrophic_pattern_still_matches_what_it_describes(owner_client, make_client):
    _, registered = make_client(callback_url=f"regexp={CATASTROPHIC}")
    assert authorize_page(owner_client, registered.ref.client_id, "https://x/aaab").status_code == 200
    assert authorize_page(owner_client, registered.ref.client_id, "https://x/aaa").status_code == 400


def test_a_valid_regexp_callback_matches_and_others_do_not(owner_client, make_client):
    _, registered = make_client(callback_url=r"regexp=https://app\.example\.com/cb/\d+")
    client_id = registered.ref.client_id
    assert authorize_page(owner_client, client_id, "https://app.example.com/cb/42").status_code == 200
    assert authorize_page(owner_client, client_id, "https://app.example.com/cb/42x").status_code == 400


def test_a_redirect_uri_longer_than_the_cap_never_matches():
    assert regexp_matches(r"https://x/a*", "https://x/" + "a" * 2000)
    assert not regexp_matches(r"https://x/a*", "https://x/" + "a" * 2100)


def test_a_pattern_re2_refuses_matches_nothing_at_the_endpoint():
    # Saved before patterns were checked with RE2: a backreference is refused, not run by re.
    assert not regexp_matches(r"https://x/(a)\1", "https://x/aa")


@pytest.mark.parametrize(
    "pattern, message",
    [
        (r"https://x/(a)\1", "is not a supported regular expression: invalid escape sequence"),
        (r"https://x/(?=a)a", "is not a supported regular expression: invalid perl operator"),
        (r"(https://x", "does not compile"),
        ("https://x/" + "a" * MAX_PATTERN_LENGTH, f"at most {MAX_PATTERN_LENGTH} characters"),
    ],
)
def test_configuring_a_pattern_re2_cannot_run_is_a_clear_error(pattern, message):
    problems = check_callback_url(f"regexp={pattern}")
    assert len(problems) == 1
    assert message in problems[0]


def test_configuring_a_catastrophic_but_linear_pattern_is_accepted():
    assert check_callback_url(f"regexp={CATASTROPHIC}") == []
