"""The local demo (scripts/demo.py) against real emulators, loopback only.

The offline half's runs pass `--offline` and GAMELIFT_DEMO_OFFLINE=1, so the demo never
uses the Pulumi CLI; the online half runs with the real CLI of the `pulumi_cli` fixture
(the one `make setup` built, first on PATH) on the local stack's port 47651. Every run has
a state directory of its own, so it never touches the project's `.pulumi-state/`, and a
proxy that refuses connections, so nothing can be downloaded.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from gamelift_emulator import Emulator, EmulatorControl
from program_config import parse
from scripts import demo

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scripts" / "demo.py"
DEMO_PORT_LOCK = Path("/tmp/gamelift-backfill-demo-47651.lock")
"""Held by an online run of the demo here: two test runs on one machine wait for the port."""
ONLINE_TIMEOUT_SECONDS = 600

RunDemo = Callable[..., subprocess.CompletedProcess[str]]

WITHOUT_BUILT_CLI = (
    "import runpy, sys; from pathlib import Path; import testkit.pulumi_cli as cli; "
    "cli.BUILT_CLI = Path('/nonexistent/pulumi'); "
    f"runpy.run_path({str(DEMO)!r}, run_name='__main__')"
)
"""`python -c` running the demo as if `make setup` had built no CLI (this checkout has one)."""


@pytest.fixture
def run_demo(tmp_path: Path) -> Iterator[RunDemo]:
    """Run `scripts/demo.py ARGS --offline` as `make` would (`offline=False` with a `path`:
    the online half with the CLI found there; `built_cli=False`: as if `make setup` had
    built none); any emulator left is stopped."""
    env = {
        **os.environ,
        "GAMELIFT_DEMO_OFFLINE": "1",
        "GAMELIFT_DEMO_STATE_DIR": str(tmp_path / "state"),
        # If anything tried the network anyway, it would fail here rather than reach it.
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
    }

    def run(
        *args: str, offline: bool = True, path: str | None = None, built_cli: bool = True
    ) -> subprocess.CompletedProcess[str]:
        run_env = dict(env, PATH=path or env.get("PATH", ""))
        if not offline:
            del run_env["GAMELIFT_DEMO_OFFLINE"]
        demo_script = [str(DEMO)] if built_cli else ["-c", WITHOUT_BUILT_CLI]
        return subprocess.run(
            [sys.executable, *demo_script, *args, *(["--offline"] if offline else [])],
            cwd=ROOT,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=180 if offline else ONLINE_TIMEOUT_SECONDS,
            check=False,
        )

    yield run
    leftover = tmp_path / "state" / "demo-emulator.json"
    if leftover.exists():
        os.kill(json.loads(leftover.read_text())["pid"], signal.SIGTERM)


def emulator_url(output: str) -> str:
    """The endpoint the demo reported for the emulator it started."""
    match = re.search(r"emulator at (http://\S+)", output)
    assert match, output
    return match.group(1)


def refuses_connections(endpoint_url: str) -> bool:
    """Whether nothing listens at the endpoint any more (the emulator was stopped)."""
    host, port = endpoint_url.removeprefix("http://").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return True
    return False


def test_offline_demo_drains_every_ticket_and_deletes_the_configuration(run_demo: RunDemo) -> None:
    """`demo --offline` seeds, drains with python -m providers, deletes the configuration,
    exits 0, says it is the offline half, and stops its emulator."""
    result = run_demo("demo", "--port", "0")
    output = result.stdout

    assert result.returncode == 0, output + result.stderr
    assert "running the offline half instead" in output
    assert "OFFLINE HALF: no `pulumi up` ran" in output
    assert "$ pulumi" not in output
    assert "cannot be deleted while it has active matchmaking tickets" in output
    assert f"DeleteMatchmakingConfiguration {demo.CONFIGURATION_NAME}: deleted" in output
    assert refuses_connections(emulator_url(output))


def test_demo_without_a_cli_says_so_once_and_runs_the_offline_half(
    run_demo: RunDemo, tmp_path: Path
) -> None:
    """With no pulumi on PATH and none built the demo says so in one line, runs the offline
    half under that label, and exits 0 on success."""
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run_demo("demo", "--port", "0", offline=False, path=str(empty), built_cli=False)
    output = result.stdout

    assert result.returncode == 0, output + result.stderr
    assert output.count("the Pulumi CLI is not available") == 1
    assert output.splitlines()[0] == (
        "[demo] the Pulumi CLI is not available (none on PATH, and none built: `make setup` "
        "builds one where go is installed): running the offline half instead"
    )
    assert "OFFLINE HALF: no `pulumi up` ran" in output
    assert "$ pulumi" not in output
    assert refuses_connections(emulator_url(output))


def test_offline_up_then_down_tears_down_and_stops_the_emulator(run_demo: RunDemo) -> None:
    """`up --offline` leaves a seeded emulator running; `down --offline` drains it, deletes
    the configuration and stops it."""
    up = run_demo("up", "--port", "0")
    assert up.returncode == 0, up.stdout + up.stderr
    endpoint_url = emulator_url(up.stdout)
    assert len(demo.active_tickets(endpoint_url)) == demo.SESSIONS_AT_START

    down = run_demo("down")

    assert down.returncode == 0, down.stdout + down.stderr
    assert "OFFLINE HALF: no `pulumi destroy`" in down.stdout
    assert f"DeleteMatchmakingConfiguration {demo.CONFIGURATION_NAME}: deleted" in down.stdout
    assert refuses_connections(endpoint_url)


def test_down_without_up_fails_in_one_line(run_demo: RunDemo) -> None:
    """`down` with no emulator from `up` exits 1 and says why."""
    result = run_demo("down")

    assert result.returncode == 1
    assert result.stdout.strip().splitlines() == [
        "[demo] FAILED: no emulator from `make up` is running: nothing to tear down"
    ]


def test_demo_fails_when_its_emulator_cannot_start(run_demo: RunDemo) -> None:
    """A port already in use fails the demo with exit status 1 and a one-line reason."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run_demo("demo", "--port", str(busy.getsockname()[1]))

    assert result.returncode == 1
    assert "FAILED: the emulator did not start" in result.stdout


def test_offline_teardown_exit_status_is_true_to_a_failed_drain(
    emulator: Emulator, control: EmulatorControl, gamelift: Any
) -> None:
    """When StopMatchmaking is refused, the drain fails, the teardown returns 1, and the
    configuration is left in place."""
    demo.seed_infrastructure(emulator.endpoint_url)
    demo.seed_sessions(emulator.endpoint_url, 2)
    control.faults(
        error_rate=1.0, error_codes=["UnauthorizedException"], operations=["StopMatchmaking"]
    )

    status = demo.offline_teardown(emulator.endpoint_url, timeout=5)

    assert status == 1
    configurations = gamelift.describe_matchmaking_configurations()["Configurations"]
    assert [c["Name"] for c in configurations] == [demo.CONFIGURATION_NAME]
    assert len(demo.active_tickets(emulator.endpoint_url)) == 2


def test_local_stack_config_is_what_the_demo_seeds() -> None:
    """Pulumi.local.yaml passes the program's config checks and targets the demo's emulator,
    fleet and configuration."""
    stack = yaml.safe_load((ROOT / "Pulumi.local.yaml").read_text())
    namespace = "gamelift-backfill:"
    raw = {
        key.removeprefix(namespace): value if isinstance(value, str) else json.dumps(value)
        for key, value in stack["config"].items()
    }

    config = parse(raw)

    assert stack["secretsprovider"] == "passphrase"
    assert config.endpoint_url == f"http://127.0.0.1:{demo.PORT}"
    assert config.region == demo.REGION
    assert config.fleet_ids == (demo.FLEET_ID,)
    assert config.configuration_name == demo.CONFIGURATION_NAME
    assert config.manage_infrastructure is False


def test_demo_never_downloads_the_cli() -> None:
    """The demo has no way to fetch a Pulumi CLI: no installer URL, no curl, no pip."""
    source = DEMO.read_text()

    for fragment in ("get.pulumi.com", "curl", "pip install", "https://"):
        assert fragment not in source


@pytest.fixture
def demo_port() -> Iterator[None]:
    """The local stack's port, held against this machine's other test runs meanwhile."""
    with DEMO_PORT_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.mark.e2e
def test_online_demo_runs_up_and_destroy_with_the_built_cli(
    run_demo: RunDemo, pulumi_cli: Path, demo_port: None, tmp_path: Path
) -> None:
    """`make demo` with the real CLI and no pulumi-language-python: it says once that `up`
    runs through the Automation API, runs plain `pulumi destroy`, ends every ticket the
    program never saw, deletes the configuration, downloads nothing, exits 0."""
    if shutil.which("pulumi-language-python", path=str(pulumi_cli.parent)):
        pytest.fail(f"{pulumi_cli.parent} has pulumi-language-python: not the built CLI")
    path = f"{pulumi_cli.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    stack_file = ROOT / f"Pulumi.{demo.STACK}.yaml"
    committed = stack_file.read_bytes()

    result = run_demo("demo", offline=False, path=path)
    output = result.stdout

    assert result.returncode == 0, output + result.stderr
    assert "OFFLINE" not in output
    assert output.count("has no pulumi-language-python") == 1
    assert "[demo] $ python -P testkit/inline_program.py up --stack local" in output
    assert "[demo] $ pulumi destroy --yes" in output
    assert "players came: 3 more game sessions" in output
    assert "cannot be deleted while it has active matchmaking tickets" in output
    assert re.search(r"drained: 7 active backfill ticket\(s\) found, 7 stopped", output), output
    assert re.search(r"\[demo\] all \d+ tickets ended \(8 backfill", output), output
    assert f"DeleteMatchmakingConfiguration {demo.CONFIGURATION_NAME}: deleted" in output
    assert refuses_connections(emulator_url(output))
    plugins = tmp_path / "state" / "pulumi-home" / "plugins"
    assert not plugins.exists() or not any(plugins.iterdir()), "a plugin was installed"
    assert stack_file.read_bytes() == committed, "the committed stack file was rewritten"
