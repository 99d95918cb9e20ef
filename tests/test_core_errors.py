"""Error translation and the client factory, against the emulator over real HTTP."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from gamelift_backfill.core import clients
from gamelift_backfill.core.errors import (
    AuthError,
    EndpointError,
    InputError,
    ServiceError,
    ThrottledError,
    UnsupportedRegionError,
    translate,
)
from gamelift_backfill.core.tickets import describe_tickets, stop_and_wait
from gamelift_backfill.translate import CLI, DYNAMIC, phrase
from gamelift_emulator import Emulator, EmulatorControl
from testkit.world import World, make_world


@pytest.fixture
def world(emulator: Emulator, gamelift: Any) -> World:
    """A fleet and an AUTOMATIC configuration on the shared emulator (system clock).

    Throttling refills with the emulator's clock and botocore's retries sleep for real,
    so these tests cannot use a manual clock.
    """
    return make_world(emulator.control, gamelift)


@pytest.fixture
def aws_env(emulator: Emulator) -> Emulator:
    """The standard AWS chain (isolated by conftest) and the shared emulator."""
    return emulator


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_wrong_secret_is_an_auth_error(
    emulator: Emulator, make_gamelift: Callable[..., Any]
) -> None:
    """A refused signature becomes AuthError whose remedy, phrased, says to check
    credentials, without the secret."""
    client = make_gamelift(emulator.endpoint_url, secret_key="wrong-secret-value")
    with pytest.raises(AuthError) as info:
        stop_and_wait(client, ["t-1"], timeout_seconds=5)
    assert info.value.code == "AUTH_ERROR"
    assert info.value.remedies == ("check_credentials",)
    assert "AWS_PROFILE" in str(phrase(info.value, DYNAMIC))
    assert "wrong-secret-value" not in str(info.value)
    assert "t-1" in str(info.value)


def test_endpoint_down_is_an_endpoint_error(
    make_gamelift: Callable[..., Any], closed_port: int
) -> None:
    """Connection refused becomes EndpointError naming the endpoint, the failed call and
    the remedies (network, retry) without any front end's words."""
    client = make_gamelift(f"http://127.0.0.1:{closed_port}")
    with pytest.raises(EndpointError) as info:
        describe_tickets(client, ["t-1"])
    assert info.value.code == "CONNECTION_ERROR"
    assert info.value.operation == "DescribeMatchmaking"
    assert f"127.0.0.1:{closed_port}" in str(info.value)
    assert info.value.remedies == ("check_endpoint", "retry")
    assert "pulumi" not in str(info.value)
    assert "again to finish" in str(phrase(info.value, CLI))


@pytest.mark.parametrize(
    ("code", "error", "hint"),
    [
        ("UnsupportedRegionException", UnsupportedRegionError, "has no GameLift"),
        ("ThrottlingException", ThrottledError, "still throttled"),
        ("InternalServiceException", ServiceError, "after retries"),
    ],
)
def test_service_errors_are_translated(
    control: EmulatorControl, gamelift: Any, code: str, error: type[Exception], hint: str
) -> None:
    """Service error codes map to their error class with an actionable message."""
    control.faults(error_rate=1.0, error_codes=[code])
    with pytest.raises(error, match=hint):
        stop_and_wait(gamelift, ["t-1"], timeout_seconds=5)


def test_exhausted_retry_quota_says_what_to_do() -> None:
    """Throttling that spent botocore's retry quota says so: shared rate limit, adaptive mode,
    retry the destroy."""
    response: Any = {
        "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
        "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": 3, "RetryQuotaReached": True},
    }
    error = translate(
        ClientError(response, "StopMatchmaking"), operation="StopMatchmaking", ticket_ids=["t-3"]
    )
    assert isinstance(error, ThrottledError)
    assert error.remedies == ("retry_later", "lower_concurrency")
    message = str(phrase(error, DYNAMIC))
    assert "t-3" in message
    assert "retry quota" in message
    assert "rate limit" in message
    assert "AWS_RETRY_MODE=adaptive" in message
    assert "`pulumi destroy`" in message
    assert "`max_concurrency`" in message


def test_no_credentials_is_an_auth_error() -> None:
    """Missing credentials say where credentials come from."""
    error = translate(NoCredentialsError(), operation="StopMatchmaking", ticket_ids=["t-9"])
    assert isinstance(error, AuthError)
    assert "t-9" in str(error)
    assert error.exit_code == 5


def test_region_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    """Input > stack config > AWS_REGION > AWS_DEFAULT_REGION; none at all names `region`."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert clients.resolve_region("us-east-2", "us-west-1") == "us-east-2"
    assert clients.resolve_region(None, "us-west-1") == "us-west-1"
    assert clients.resolve_region(None, None) == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert clients.resolve_region(None, None) == "ap-south-1"
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(InputError) as info:
        clients.resolve_region(None, None)
    assert info.value.fields == ["region"]


def test_endpoint_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    """Input > AWS_ENDPOINT_URL_GAMELIFT > AWS_ENDPOINT_URL > AWS default (None)."""
    assert clients.resolve_endpoint(None) is None
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    assert clients.resolve_endpoint(None) == "http://127.0.0.1:1"
    monkeypatch.setenv("AWS_ENDPOINT_URL_GAMELIFT", "http://127.0.0.1:2")
    assert clients.resolve_endpoint(None) == "http://127.0.0.1:2"
    assert clients.resolve_endpoint("https://example.test") == "https://example.test"
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert clients.resolve_endpoint(None) is None


def test_clients_are_cached_per_settings(aws_env: Emulator) -> None:
    """The same settings give the same client; other settings another, with their config."""
    first = clients.gamelift_client("us-east-1", aws_env.endpoint_url)
    assert clients.gamelift_client("us-east-1", aws_env.endpoint_url) is first
    adaptive = clients.gamelift_client(
        "us-east-1", aws_env.endpoint_url, retry_mode="adaptive", max_concurrency=32
    )
    assert adaptive is not first
    assert adaptive.meta.config.retries["mode"] == "adaptive"
    assert adaptive.meta.config.max_pool_connections >= 32


def test_each_role_has_its_own_cached_client(aws_env: Emulator) -> None:
    """Reads and stops get separate clients (separate rate limiters), each cached."""
    read = clients.gamelift_client("us-east-1", aws_env.endpoint_url)
    stop = clients.gamelift_client("us-east-1", aws_env.endpoint_url, role="stop")
    assert stop is not read
    assert clients.gamelift_client("us-east-1", aws_env.endpoint_url, role="stop") is stop
    assert clients.gamelift_client("us-east-1", aws_env.endpoint_url, role="read") is read


def test_retry_settings_come_from_botocore_s_own_variables(
    aws_env: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """AWS_RETRY_MODE / AWS_MAX_ATTEMPTS, else the profile's retry_mode / max_attempts, else
    adaptive and 10 attempts in all; an argument in code wins over both."""

    def retries() -> dict[str, Any]:
        clients.clear_client_cache()
        config: dict[str, Any] = clients.gamelift_client("us-east-1", None).meta.config.retries
        return config

    assert retries() == {"mode": "adaptive", "total_max_attempts": 10}
    profile = tmp_path / "config"
    profile.write_text("[default]\nretry_mode = legacy\nmax_attempts = 4\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(profile))
    assert retries() == {"mode": "legacy", "total_max_attempts": 4}
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    assert retries() == {"mode": "standard", "total_max_attempts": 3}
    explicit = clients.gamelift_client("us-east-1", None, retry_mode="adaptive", max_attempts=2)
    assert explicit.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 2}


@pytest.mark.parametrize(
    ("name", "value"), [("AWS_RETRY_MODE", "fast"), ("AWS_MAX_ATTEMPTS", "many")]
)
def test_bad_retry_settings_are_input_errors(
    aws_env: Emulator, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """A retry setting botocore would refuse names the variable and what it accepts."""
    monkeypatch.setenv(name, value)
    with pytest.raises(InputError) as info:
        clients.gamelift_client("us-east-1", None)
    assert info.value.fields == [name]


def test_throttled_stops_are_retried_by_botocore(aws_env: Emulator, world: World) -> None:
    """Under a tight token bucket every ticket still ends stopped: botocore retries, no loop."""
    tickets = [world.session()["auto_backfill_ticket_id"] for _ in range(15)]
    world.control.faults(throttle={"rate": 30, "burst": 3}, operations=["StopMatchmaking"])
    client = clients.gamelift_client("us-east-1", aws_env.endpoint_url, max_concurrency=8)
    report = stop_and_wait(client, tickets, timeout_seconds=60, max_concurrency=8)
    assert sorted(report.stopped) == sorted(tickets)
    assert report.stop_calls == 15
