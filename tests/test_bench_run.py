"""``bench/run --help`` works. Benchmarks are never run as tests: this only checks that the command
the README gives starts, parses its options and names every row, without touching a database."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_run_help_lists_the_options_and_rows():
    result = subprocess.run(
        ["bash", str(ROOT / "bench" / "run"), "--help"], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    for option in ("--tokens", "--smoke", "--allow-busy", "--only", "--check-connections"):
        assert option in result.stdout
    for row in ("bare", "healthz", "stock_unhashed", "stock_hashed", "token_jwt", "keys_page"):
        assert row in result.stdout
