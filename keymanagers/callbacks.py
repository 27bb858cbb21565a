"""``regexp=`` callback URLs: checked and matched with RE2, which runs in time linear in the input.

A callback pattern is chosen by a developer and the URI it is matched against by whoever calls
``/oauth2/authorize``; Python's backtracking ``re`` would let ``(a+)+b`` and a long URI hold a worker
for minutes. RE2 refuses what it cannot match in linear time (backreferences, lookarounds), so a
pattern is checked with RE2 when the key is configured, and matched with RE2 at the endpoint.
"""

from __future__ import annotations

import functools
import logging
import re

import re2

log = logging.getLogger(__name__)

REGEXP_PREFIX = "regexp="
MAX_PATTERN_LENGTH = 512
# Longer redirect URIs are refused before any pattern sees them (browsers and servers cap URLs
# around 2-8 kB anyway).
MAX_REDIRECT_URI_LENGTH = 2048

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad pattern is reported to its author, not to stderr


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str):
    return re2.compile(pattern, _OPTIONS)


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a callback pattern, or None when it can."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"Use at most {MAX_PATTERN_LENGTH} characters in the regular expression."
    try:
        # Compiling (not matching) with ``re`` is safe, and names a syntax error the way Python
        # developers know it; RE2 then refuses what it cannot match in linear time.
        re.compile(pattern)
    except re.error as exc:
        return f"The regular expression does not compile: {exc}."
    try:
        _compiled(pattern)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return (
            f"“{pattern}” is not a supported regular expression: {reason} "
            "(backreferences and lookarounds are not supported)."
        )
    return None


def regexp_matches(pattern: str, uri: str) -> bool:
    """Whether ``uri`` matches all of ``pattern``; a pattern RE2 refuses matches nothing."""
    if len(uri) > MAX_REDIRECT_URI_LENGTH or len(pattern) > MAX_PATTERN_LENGTH:
        return False
    try:
        compiled = _compiled(pattern)
    except re2.error:
        # Saved before patterns were checked with RE2: the developer must fix it on the keys page.
        log.warning("resident: a regexp= callback pattern is not valid RE2 and matches nothing")
        return False
    return compiled.fullmatch(uri) is not None
