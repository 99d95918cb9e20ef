"""The emulator as a process, with a second real client (AWS CLI), and under concurrency."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from emulator_helpers import PLAYERS

from gamelift_emulator import Emulator, EmulatorControl
from gamelift_emulator.launcher import launch
from testkit.aws_env import isolated_environ
from testkit.seeding import seed_configuration

ROOT = Path(__file__).resolve().parent.parent
AWS_CLI = ROOT / ".venv-awscli" / "bin" / "aws"


@pytest.fixture
def emulator_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``python -m gamelift_emulator --port 0`` and the URL it printed first."""
    running = launch()
    try:
        yield running.process, running.endpoint_url
    finally:
        if running.process.poll() is None:
            running.process.kill()
        running.stop()


def test_module_prints_url_first_and_exits_zero_on_sigterm(
    emulator_process: tuple[subprocess.Popen[str], str], make_gamelift: Callable[..., Any]
) -> None:
    """The first stdout line is the endpoint URL; it serves boto3; SIGTERM exits 0."""
    process, url = emulator_process
    assert url.startswith("http://127.0.0.1:")
    assert make_gamelift(url).describe_matchmaking(TicketIds=["a"])["TicketList"] == []
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_module_exits_zero_on_sigint(emulator_process: tuple[subprocess.Popen[str], str]) -> None:
    """SIGINT (Ctrl-C) also stops the emulator with exit status 0."""
    process, url = emulator_process
    assert EmulatorControl(url).health()["status"] == "ok"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0


@pytest.mark.skipif(not AWS_CLI.exists(), reason="run `make setup` to create .venv-awscli")
def test_aws_cli_is_a_second_real_client(
    emulator: Emulator, gamelift: Any, control: EmulatorControl, tmp_path: Path
) -> None:
    """The AWS CLI (its own botocore) signs, calls and parses errors against the emulator."""
    seed_configuration(gamelift)
    ticket_id = gamelift.start_matchmaking(ConfigurationName="cfg", Players=PLAYERS)[
        "MatchmakingTicket"
    ]["TicketId"]
    env = isolated_environ({"PATH": os.environ.get("PATH", "")}, HOME=str(tmp_path))

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(AWS_CLI), "gamelift", *args, "--endpoint-url", emulator.endpoint_url]
        command += ["--region", "us-east-1", "--output", "json"]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    described = aws("describe-matchmaking", "--ticket-ids", ticket_id)
    assert described.returncode == 0, described.stderr
    assert json.loads(described.stdout)["TicketList"][0]["TicketId"] == ticket_id
    stopped = aws("stop-matchmaking", "--ticket-id", ticket_id)
    assert stopped.returncode == 0, stopped.stderr
    missing = aws("stop-matchmaking", "--ticket-id", "no-such-ticket")
    assert missing.returncode != 0
    assert "NotFoundException" in missing.stderr
    assert control.calls()["StopMatchmaking"] == 2


def test_concurrent_clients_lose_no_state(
    emulator: Emulator, control: EmulatorControl, make_gamelift: Callable[..., Any]
) -> None:
    """Eight threads starting and stopping tickets at once: every ticket and call is counted."""
    setup = make_gamelift(emulator.endpoint_url)
    seed_configuration(setup)
    control.settings(stop_delay_ms=0)
    per_thread = 25

    def work(worker: int) -> list[str]:
        client = make_gamelift(emulator.endpoint_url)
        ids = []
        for index in range(per_thread):
            ticket_id = f"t-{worker}-{index}"
            client.start_matchmaking(ConfigurationName="cfg", Players=PLAYERS, TicketId=ticket_id)
            ids.append(ticket_id)
        for ticket_id in ids[::2]:
            client.stop_matchmaking(TicketId=ticket_id)
        return ids

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = [i for batch in pool.map(work, range(8)) for i in batch]
    tickets = {t["TicketId"]: t["Status"] for t in control.tickets()}
    assert set(tickets) == set(ids)
    assert sum(status == "CANCELLED" for status in tickets.values()) == 8 * ((per_thread + 1) // 2)
    calls = control.calls()
    assert calls["StartMatchmaking"] == 8 * per_thread
    assert calls["StopMatchmaking"] == 8 * ((per_thread + 1) // 2)
