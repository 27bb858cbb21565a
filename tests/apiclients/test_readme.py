"""README "Automate it": the reference's login as curl commands, run as written against a live server.

Only the ``HOST=`` line is changed (to the live server) and the typed credentials come from stdin,
as a person would type them. The live server runs in another thread, so the data is committed
(``transaction=True``); ``serialized_rollback`` restores what migrations created (see
tests/browser/conftest.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from keys.models import ApplicationKey
from portal.models import Application
from tests.conftest import PASSWORD

README = Path(__file__).resolve().parents[2] / "README.md"


def automate_it_block() -> str:
    text = README.read_text()
    section = text.split("### Automate it", 1)[1]
    return re.search(r"```bash\n(.*?)\n```", section, re.S).group(1)


def test_the_block_is_the_documented_login():
    block = automate_it_block()
    assert "/client-registration/v0.17/register" in block
    assert "grant_type=client_credentials" in block
    assert re.search(r"^HOST=\S+", block, re.M)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_readme_login_runs_as_written(live_server, owner, tmp_path):
    script = re.sub(r"^HOST=.*$", f"HOST={live_server.url}", automate_it_block(), count=1, flags=re.M)

    run = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        input=f"{owner.username}\n{PASSWORD}\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )

    assert run.returncode == 0, run.stderr
    assert (tmp_path / "client.json").read_text().count('"clientSecret"') == 1
    assert Application.objects.get(name="Billing").owner == owner
    assert run.stdout.count('"name":"Billing"') == 2  # the 201's body, then the list
    # Keys at the Resident Key Manager, then a 10-minute token for the application.
    key = ApplicationKey.objects.get(application__name="Billing")
    assert (key.key_type, key.key_manager.type) == ("PRODUCTION", "resident")
    assert json.loads(run.stdout[run.stdout.rindex("{") :]) == {
        "validityTime": 600,
        "tokenScopes": ["default"],
    }
