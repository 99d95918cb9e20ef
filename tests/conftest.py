"""Shared pytest fixtures: an isolated AWS environment, a running GameLift emulator and real
boto3 clients of it.

* every test (autouse): the AWS environment of ``testkit.aws_env`` (no ``AWS_*`` variable of
  this machine, credentials test/test, no config files, no instance metadata), and fresh
  clients of the core (its per-process cache is emptied before each test).

* ``emulator``: the session's ``Emulator`` (system clock), reset before each test
  (state, call counters, faults, settings), so tests share one server but no state.
* ``control``: its ``EmulatorControl`` (the ``/_emulator/`` API).
* ``gamelift``: a real boto3 GameLift client of it (us-east-1, test/test, no retries,
  so a test sees every error the emulator answers).
* ``manual_emulator`` + ``manual_clock``: a fresh ``Emulator`` on a ``ManualClock`` for
  lifecycle tests (``manual_clock.advance(s)`` instead of sleeping); stopped after.
* ``make_emulator``: factory for other fresh emulators (credentials, settings...).
* ``make_gamelift``: factory of boto3 clients for any emulator (or credentials/region).
* ``pulumi_cli`` + ``pulumi``: the real Pulumi CLI (``testkit.pulumi_cli``) and a sandbox of
  it for this test (own home, file state backend, no downloads); skipped only on a machine
  with neither ``go`` nor ``pulumi``, failed where ``go`` is present but the build is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest

from gamelift_backfill.core.clients import clear_client_cache
from gamelift_emulator import Emulator, EmulatorControl, ManualClock
from testkit.aws_env import ACCESS_KEY, SECRET_KEY, isolated_aws_env
from testkit.pulumi_cli import PulumiSandbox, find_cli, why_no_cli
from testkit.world import REGION

# A fixed start for ManualClock: far enough from the epoch to look like a real date.
MANUAL_CLOCK_START = 1_700_000_000.0

GameLiftFactory = Callable[..., Any]


def gamelift_client(
    endpoint_url: str,
    region: str = REGION,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
) -> Any:
    """A boto3 GameLift client of ``endpoint_url`` with retries off."""
    return boto3.session.Session().client(
        "gamelift",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=botocore.config.Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


@pytest.fixture(scope="session", autouse=True)
def _isolated_aws_session() -> Iterator[None]:
    """The whole session (and every plugin or CLI it starts) sees only the test AWS setup."""
    with isolated_aws_env():
        yield


@pytest.fixture(autouse=True)
def _fresh_clients() -> None:
    """Clients cached by an earlier test were made from its environment: start without."""
    clear_client_cache()


@pytest.fixture(scope="session")
def _session_emulator() -> Iterator[Emulator]:
    with Emulator(region=REGION) as emulator:
        yield emulator


@pytest.fixture
def emulator(_session_emulator: Emulator) -> Emulator:
    """The shared emulator, reset for this test."""
    _session_emulator.control.reset()
    return _session_emulator


@pytest.fixture
def control(emulator: Emulator) -> EmulatorControl:
    """Control API client of the (reset) shared emulator."""
    return emulator.control


@pytest.fixture(scope="session")
def _session_gamelift(_session_emulator: Emulator) -> Any:
    return gamelift_client(_session_emulator.endpoint_url)


@pytest.fixture
def gamelift(emulator: Emulator, _session_gamelift: Any) -> Any:
    """boto3 GameLift client of the (reset) shared emulator."""
    return _session_gamelift


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    """Factory of fresh, started emulators (``Emulator``'s arguments); all stopped after."""
    started: list[Emulator] = []

    def make(**kwargs: Any) -> Emulator:
        emulator = Emulator(**kwargs).start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture
def manual_clock() -> ManualClock:
    """The clock of ``manual_emulator``: call ``advance(seconds)`` instead of sleeping."""
    return ManualClock(MANUAL_CLOCK_START)


@pytest.fixture
def manual_emulator(make_emulator: Callable[..., Emulator], manual_clock: ManualClock) -> Emulator:
    """A fresh emulator on ``manual_clock``, stopped after the test."""
    return make_emulator(region=REGION, clock=manual_clock)


@pytest.fixture
def make_gamelift() -> GameLiftFactory:
    """``make_gamelift(endpoint_url, region=..., access_key=..., secret_key=...)``."""
    return gamelift_client


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    """The real Pulumi CLI: a failure where `go` could have built it, a skip only on a
    machine with neither `go` nor `pulumi`."""
    reason = why_no_cli()
    if reason is not None:
        if reason.startswith("FAIL:"):
            pytest.fail(reason)
        pytest.skip(reason)
    cli = find_cli()
    assert cli is not None
    return cli


@pytest.fixture
def pulumi(pulumi_cli: Path, tmp_path: Path) -> Iterator[PulumiSandbox]:
    """A `PulumiSandbox` of this test: own Pulumi home and file state backend; whatever it
    started and left running (plugins of a killed CLI) is stopped after the test."""
    sandbox = PulumiSandbox(tmp_path / "pulumi", pulumi_cli)
    yield sandbox
    sandbox.stop_leftovers()
