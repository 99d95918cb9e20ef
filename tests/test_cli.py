"""``python -m providers`` against the shared emulator: in-process through ``cli.main`` (a
click-style runner capturing stdout and stderr) and once as a real subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from gamelift_backfill import cli, translate
from gamelift_backfill.core import clients
from gamelift_backfill.core.clients import clear_client_cache
from gamelift_emulator import Emulator, EmulatorControl
from testkit.world import REGION, World, make_world

PROJECT_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Result:
    """One run of the command line: exit code and what it wrote."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict[str, Any]:
        """stdout as the one JSON object it must be (and nothing else)."""
        document = json.loads(self.stdout)
        assert isinstance(document, dict)
        assert self.stdout.count("\n") == 1
        return document


class _Terminal(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


Runner = Callable[..., Result]


@pytest.fixture
def world(
    control: EmulatorControl, gamelift: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[World]:
    """A fleet on the reset emulator; test credentials from the environment, no region."""
    yield make_world(control, gamelift)
    clear_client_cache()  # no client with this test's credentials outlives it


@pytest.fixture
def run(emulator: Emulator, world: World) -> Runner:
    """``run(*argv, endpoint=True, tty=False)``: main() with the emulator's endpoint and region
    appended (unless ``endpoint=False``) and stdout/stderr captured."""

    def invoke(*argv: str, endpoint: bool = True, tty: bool = False) -> Result:
        args = list(argv)
        if endpoint:
            args += ["--endpoint-url", emulator.endpoint_url, "--region", REGION]
        stdout, stderr = io.StringIO(), _Terminal() if tty else io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(stderr):
            code = cli.main(args)
        return Result(code, stdout.getvalue(), stderr.getvalue())

    return invoke


# -- stop ---------------------------------------------------------------------------------


def test_stop_cancels_and_waits(run: Runner, world: World) -> None:
    """`stop` cancels active tickets, waits until they ended, and exits 0 with readable lines."""
    first, second = world.tickets(2)
    result = run("stop", first, second)
    assert result.exit_code == 0
    assert f"{first}\tCANCELLED" in result.stdout
    assert "2 ticket(s) no longer active: 2 stopped" in result.stdout
    assert world.active_tickets() == []


def test_stop_json_counts_final_and_unknown_tickets_as_stopped(run: Runner, world: World) -> None:
    """Already final and unknown tickets are no longer active: success, exit 0, in JSON."""
    active, done = world.tickets(2)
    world.control.settings(auto_backfill_regenerate=False)
    world.control.set_ticket_status(done, "COMPLETED")
    result = run("stop", active, done, "never-existed", "--json")
    assert result.exit_code == 0
    assert result.json["success"] is True
    data = result.json["data"]
    assert data["stopped"] == [active]
    assert sorted(data["already_final"]) == sorted([done, "never-existed"])
    assert {t["ticket_id"]: t["status"] for t in data["tickets"]}["never-existed"] == "GONE"


def test_stop_timeout_names_the_ticket(run: Runner, world: World) -> None:
    """A ticket stuck in PLACING past --timeout: TIMEOUT, exit 7, the ticket named, and the
    fix in the command line's words (run it again, --timeout), never Pulumi's."""
    stuck = world.tickets(1)[0]
    world.control.set_ticket_status(stuck, "PLACING")
    result = run("stop", stuck, "--timeout", "1", "--json")
    assert result.exit_code == 7
    error = result.json["error"]
    assert error["code"] == "TIMEOUT"
    assert f"{stuck} (PLACING)" in error["message"]
    assert "Run the same command again" in error["message"]
    assert "--timeout" in error["message"]
    assert "pulumi" not in error["message"]
    assert result.json["success"] is False


def test_stop_timeout_readable_form(run: Runner, world: World) -> None:
    """Without --json a failure is one readable line on stderr and nothing on stdout."""
    stuck = world.tickets(1)[0]
    world.control.set_ticket_status(stuck, "PLACING")
    result = run("--timeout", "1", "stop", stuck)
    assert result.exit_code == 7
    assert result.stdout == ""
    assert result.stderr.startswith("error (TIMEOUT): 1 backfill ticket(s) still active")


# -- drain --------------------------------------------------------------------------------


def test_drain_stops_every_ticket_of_the_fleet(run: Runner, world: World) -> None:
    """`drain` stops every automatic ticket of the fleet; the configuration is deletable."""
    world.tickets(30)
    result = run("drain", "--fleet-id", world.fleet_id, "--json")
    assert result.exit_code == 0
    data = result.json["data"]
    assert data["found_active"] == 30
    assert data["stopped"] == 30
    assert data["fleet_ids"] == [world.fleet_id]
    assert world.deletable()


def test_drain_honours_filter_and_extra_tickets(run: Runner, world: World) -> None:
    """--configuration-name limits the drain; --ticket-id adds tickets; readable summary."""
    world.tickets(2, "cfg")
    theirs, extra = world.tickets(2, "other")
    result = run(
        "drain",
        "--fleet-id",
        world.fleet_arn,
        "--configuration-name",
        "cfg",
        "--ticket-id",
        extra,
    )
    assert result.exit_code == 0
    assert "3 active backfill ticket(s) found, 3 stopped" in result.stdout
    assert world.active_tickets() == [theirs]


def test_drain_of_a_missing_fleet_is_not_found(run: Runner, world: World) -> None:
    """A fleet that does not exist: NOT_FOUND (exit 3) naming it, after draining the others."""
    world.tickets(2)
    result = run("drain", "--fleet-id", "fleet-typo", "--fleet-id", world.fleet_id, "--json")
    assert result.exit_code == 3
    assert result.json["error"]["code"] == "NOT_FOUND"
    assert "fleet-typo" in result.json["error"]["message"]
    assert world.active_tickets() == []


def test_drain_shows_progress_on_a_terminal_only(run: Runner, world: World) -> None:
    """On a terminal stderr shows a progress line ending in a newline; elsewhere stderr is
    quiet."""
    world.tickets(5)
    on_terminal = run("drain", "--fleet-id", world.fleet_id, tty=True)
    world.tickets(5)
    piped = run("drain", "--fleet-id", world.fleet_id)
    assert on_terminal.exit_code == piped.exit_code == 0
    assert on_terminal.stderr.startswith("\rdrain: ")
    assert on_terminal.stderr.endswith("0 remaining   \n")
    assert piped.stderr == ""


# -- status -------------------------------------------------------------------------------


def test_status_exit_code_follows_activity(run: Runner, world: World) -> None:
    """`status` exits 7 while a ticket is active, 0 once none is; gone tickets are GONE."""
    ticket = world.tickets(1)[0]
    active = run("status", ticket, "--json")
    assert active.exit_code == 7
    assert active.json["success"] is True
    assert active.json["data"]["active"] == 1
    assert run("stop", ticket).exit_code == 0
    ended = run("status", ticket, "gone-ticket")
    assert ended.exit_code == 0
    assert f"{ticket}\tCANCELLED\tnot active" in ended.stdout
    assert "gone-ticket\tGONE\tnot active" in ended.stdout


# -- options, validation and errors -------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "--region", REGION, "status", "T"],
        ["status", "T", "--json", "--region", REGION],
        ["--region", REGION, "status", "--json", "T"],
    ],
)
def test_common_options_before_or_after_arguments(
    run: Runner, world: World, emulator: Emulator, argv: list[str]
) -> None:
    """Common options work before the command, after its arguments, or between them."""
    result = run(*argv, "--endpoint-url", emulator.endpoint_url, endpoint=False)
    assert result.exit_code == 0
    assert result.json["data"]["tickets"][0]["status"] == "GONE"


@pytest.mark.parametrize(
    ("argv", "where"),
    [
        (["stop", "x" * 200], "TICKET_ID[0]"),
        (["stop", "T", "--endpoint-url", "http://gamelift.example.com"], "--endpoint-url"),
        (["stop", "T", "--timeout", "0"], "--timeout"),
        (["drain", "--fleet-id", "not a fleet"], "--fleet-id[0]"),
        (["drain", "--fleet-id", "fleet-1", "--max-concurrency", "0"], "--max-concurrency"),
        (["drain", "--fleet-id", "fleet-1", "--configuration-name", "a b"], "--configuration-name"),
        (["drain"], "--fleet-id"),
        (["status"], "TICKET_ID"),
        (["stop", "T", "--timeout", "soon"], "--timeout"),
        (["reboot", "T"], "reboot"),
        (["stop", "T", "--time", "5"], "--time"),
        ([], "command"),
    ],
)
def test_bad_arguments_are_validation_errors_and_call_nothing(
    run: Runner, world: World, argv: list[str], where: str
) -> None:
    """Bad arguments: VALIDATION_ERROR naming the option, exit 2, and no GameLift call."""
    world.control.reset()
    result = run(*argv, "--json", endpoint=False)
    assert result.exit_code == 2
    assert result.json["error"]["code"] == "VALIDATION_ERROR"
    assert where in result.json["error"]["message"]
    assert world.control.calls() == {}


def test_bad_arguments_readable_form_shows_usage(run: Runner, world: World) -> None:
    """Without --json a usage error prints the usage and the reason on stderr, exit 2."""
    result = run("drain", endpoint=False)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: python -m providers")
    assert "error (VALIDATION_ERROR): arguments:" in result.stderr


def test_no_region_is_a_validation_error(run: Runner, world: World, emulator: Emulator) -> None:
    """Without --region, AWS_REGION or a profile region: VALIDATION_ERROR naming --region."""
    result = run("status", "T", "--endpoint-url", emulator.endpoint_url, "--json", endpoint=False)
    assert result.exit_code == 2
    assert result.json["error"]["message"].startswith("--region: no region given")
    assert world.control.calls() == {}


def test_endpoint_and_region_from_the_environment(
    run: Runner, world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_ENDPOINT_URL_GAMELIFT and AWS_REGION are used when the options are not given."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_GAMELIFT", emulator.endpoint_url)
    monkeypatch.setenv("AWS_REGION", REGION)
    ticket = world.tickets(1)[0]
    assert run("stop", ticket, endpoint=False).exit_code == 0
    assert world.status(ticket) == "CANCELLED"


def test_wrong_secret_is_an_auth_error(
    run: Runner, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused secret: AUTH_ERROR, exit 5, and a message saying what to check."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    result = run("status", "T", "--json")
    assert result.exit_code == 5
    assert result.json["error"]["code"] == "AUTH_ERROR"
    assert "credentials" in result.json["error"]["message"]


def test_throttling_after_retries_is_throttled(
    run: Runner, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GameLift still throttling after botocore's retries: THROTTLED, exit 4."""
    # Two attempts instead of the core's ten, whose backoff would take about a minute.
    monkeypatch.setattr(
        translate, "gamelift_client", partial(clients.gamelift_client, max_attempts=2)
    )
    world.control.faults(error_rate=1.0, error_codes=["ThrottlingException"])
    result = run("status", "T", "--json")
    assert result.exit_code == 4
    assert result.json["error"]["code"] == "THROTTLED"


def test_help_exits_zero(run: Runner) -> None:
    """--help prints the usage with every command on stdout and exits 0."""
    result = run("--help", endpoint=False)
    assert result.exit_code == 0
    assert all(command in result.stdout for command in ("stop", "drain", "status"))


def test_real_subprocess(emulator: Emulator, world: World) -> None:
    """`python -m providers` as a process: one JSON object on stdout and the exit status."""
    ticket = world.tickets(1)[0]
    env = {**os.environ, "AWS_ENDPOINT_URL_GAMELIFT": emulator.endpoint_url}
    command = [sys.executable, "-m", "providers", "--region", REGION, "--json"]
    stopped = subprocess.run(
        [*command, "stop", ticket], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(stopped.stdout)["data"]["stopped"] == [ticket]
    bad = subprocess.run(
        [*command, "drain"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["error"]["code"] == "VALIDATION_ERROR"
