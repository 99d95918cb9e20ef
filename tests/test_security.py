"""Security properties of the provider and the CLI (issue 6, "Security").

- ``endpoint_url`` is https://, or http:// to a loopback host; anything else (and any URL
  whose host two URL parsers could read differently) fails at check time.
- Every request is SigV4-signed: a wrong secret fails with AUTH_ERROR and a message that
  says what to fix, without the secret or the access key.
- No credential ever reaches inputs, outputs, state, logs or error messages; player IDs
  are stored only as secrets and never appear in logs or error messages.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from guard_helpers import isolate_aws_env

from providers import cli
from providers.backfill_guard import BackfillGuardProvider
from providers.backfill_ticket import BackfillTicketProvider
from providers.core.validation import check_endpoint_url

REGION = "us-east-1"

REJECTED_ENDPOINTS = [
    "http://example.com",
    "http://10.0.0.1",
    "http://169.254.169.254",
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost.evil.com",
    "http://127.0.0.1.nip.io",
    "http://127.1",  # loopback to some resolvers, but not a literal we can vouch for
    "http://0x7f000001",
    "http://[::ffff:169.254.169.254]",
    "ftp://127.0.0.1/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:1",
    "http:127.0.0.1",
    "http:///127.0.0.1",
    "https://",
    "127.0.0.1:1",
    "",
    # userinfo: a credential in the input, and a classic way to hide the real host
    "http://127.0.0.1@evil.com",
    "http://127.0.0.1:1@evil.com",
    "http://evil.com@127.0.0.1:1",
    "http://user:password@127.0.0.1:1",
    "https://user:password@gamelift.us-east-1.amazonaws.com",
    "http://evil.com%00@127.0.0.1:1",
    # urllib3 (which sends the request) ends the host at a backslash; urlsplit does not
    "http://evil.com\\@127.0.0.1:1",
    "http://evil.com\\.127.0.0.1:1",
    "http://evil.com#@127.0.0.1:1",
    "http://evil.com?@127.0.0.1:1",
    "http://127.0.0.1 .evil.com",
    "http://127.0.0.1:99999",
]
ACCEPTED_ENDPOINTS = [
    "https://x",
    "https://gamelift.us-east-1.amazonaws.com",
    "https://gamelift-fips.us-east-1.amazonaws.com:443/",
    "http://127.0.0.1:1",
    "http://127.9.9.9:8080",
    "http://[::1]:1",
    "http://localhost:1",
    "HTTP://LOCALHOST:1",
]


def _ticket_check(endpoint_url: str) -> list[Any]:
    """The BackfillTicket provider's check failures for an adopt with this endpoint."""
    news = {"ticket_id": "t-1", "region": REGION, "endpoint_url": endpoint_url}
    return list(BackfillTicketProvider().check({}, news).failures or [])


def _guard_check(endpoint_url: str) -> list[Any]:
    """The BackfillGuard provider's check failures for a guard with this endpoint."""
    news = {"fleet_ids": ["fleet-1"], "region": REGION, "endpoint_url": endpoint_url}
    return list(BackfillGuardProvider().check({}, news).failures or [])


def _run_cli(*argv: str) -> tuple[int, str, str]:
    """``cli.main(argv)`` with stdout and stderr captured."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        code = cli.main(list(argv))
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Test credentials from the environment; no profile, region or endpoint variables."""
    isolate_aws_env(monkeypatch, tmp_path)


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("url", REJECTED_ENDPOINTS)
def test_non_loopback_http_and_ambiguous_endpoints_are_rejected_at_check(url: str) -> None:
    """Both resources' check and the CLI refuse the URL, naming endpoint_url, before any call."""
    assert [f.property for f in _ticket_check(url)] == ["endpoint_url"]
    assert [f.property for f in _guard_check(url)] == ["endpoint_url"]
    code, stdout, _ = _run_cli("status", "t-1", "--region", REGION, "--endpoint-url", url, "--json")
    envelope = json.loads(stdout)
    assert (code, envelope["error"]["code"]) == (2, "VALIDATION_ERROR")
    assert envelope["error"]["message"].startswith("--endpoint-url: ")
    if "password" in url:
        assert "password" not in stdout


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("url", ACCEPTED_ENDPOINTS)
def test_https_and_loopback_http_endpoints_pass_check(url: str) -> None:
    """https:// anywhere and http:// to 127.0.0.0/8, ::1 or localhost pass both checks."""
    assert check_endpoint_url(url) == []
    assert _ticket_check(url) == []
    assert _guard_check(url) == []
