"""The installable package: built with ``python -m build``, installed alone in a new
virtualenv outside the repository, it drains from the console command, creates and
destroys a dynamic-provider guard, and moves release-1 state to the package.

One build and one virtualenv for the module (testkit/packaging.py says how the virtualenv
gets its pinned dependencies without a download). Every subprocess runs with a working
directory outside the checkout and no PYTHONPATH, so ``providers`` is not importable there.
"""

from __future__ import annotations

import base64
import json
import subprocess
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gamelift_backfill.backfill_guard import BackfillGuard, BackfillGuardArgs
from gamelift_backfill.backfill_ticket import BackfillTicket, BackfillTicketArgs
from gamelift_backfill.core.validation import normalize_players
from gamelift_backfill.provider_reference import referenced_modules
from gamelift_emulator import Emulator, EmulatorControl
from testkit.aws_env import isolated_environ
from testkit.packaging import REPOSITORY, Dists, WheelVenv, build_dists, make_wheel_venv
from testkit.plugin_host import (
    PluginError,
    PluginHost,
    Secret,
    from_state,
    make_urn,
    state_round_trip,
    strip_secrets,
    type_token,
)
from testkit.world import World, make_world

REGION = "us-east-1"
STATE_DIR = Path(__file__).parent / "fixtures" / "state"
GUARD_URN = make_urn("guard", type_token(BackfillGuard))
TICKET_URN = make_urn("ticket", type_token(BackfillTicket))
# Exactly what the package may install: its own modules and its metadata.
WHEEL_PREFIXES = ("gamelift_backfill/", "gamelift_backfill-")
CONSOLE_SCRIPTS = {
    "gamelift-backfill": "gamelift_backfill.cli:main",
    "pulumi-resource-gamelift-backfill": "gamelift_backfill.native.plugin:main",
}


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """The sdist, and the wheel built from it, of the sources as a clone has them."""
    return build_dists(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def venv(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> WheelVenv:
    """A new virtualenv outside the repository with only the wheel installed."""
    return make_wheel_venv(dists.wheel, tmp_path_factory.mktemp("venv") / "venv")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A Pulumi project directory outside the checkout: nothing of the repository in it."""
    (tmp_path / "Pulumi.yaml").write_text("name: gamelift-backfill\nruntime: python\n")
    assert REPOSITORY not in tmp_path.parents
    return tmp_path


def clean_env() -> dict[str, str]:
    """The isolated AWS test setup, and no path into the checkout."""
    env = isolated_environ()
    env.pop("PYTHONPATH", None)
    return env


def run_in(venv: WheelVenv, cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run a program of the virtualenv from ``cwd`` (outside the checkout)."""
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def serialized_provider(venv: WheelVenv, cwd: Path, module: str, cls: str) -> str:
    """``__provider`` as a program using the installed package serializes it."""
    code = (
        "from pulumi.dynamic.dynamic import serialize_provider\n"
        f"from {module} import {cls}\n"
        f"print(serialize_provider({cls}()))\n"
    )
    done = run_in(venv, cwd, venv.python, "-c", code)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def plugin(venv: WheelVenv, project: Path) -> PluginHost:
    """The dynamic provider plugin as the engine starts it for a project using the package."""
    return PluginHost(
        project, config={"aws:region": REGION}, python=str(venv.python), env={"PYTHONPATH": ""}
    )


@pytest.fixture
def world(control: EmulatorControl, gamelift: Any) -> World:
    """A fleet with an AUTOMATIC configuration on the shared emulator."""
    return make_world(control, gamelift)


# -- what is built ---------------------------------------------------------------------------


def test_wheel_holds_only_the_package_and_both_console_commands(dists: Dists) -> None:
    """The wheel installs gamelift_backfill (core, resources, CLI) and nothing else: no
    top-level `providers`, no tests, no emulator; it declares both console commands."""
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = wheel.namelist()
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = wheel.read(entry_points).decode()
    assert [n for n in names if not n.startswith(WHEEL_PREFIXES)] == []
    for module in ("core/tickets.py", "backfill_guard.py", "backfill_ticket.py", "cli.py"):
        assert f"gamelift_backfill/{module}" in names
    for command, target in CONSOLE_SCRIPTS.items():
        assert f"{command} = {target}" in scripts


def test_sdist_has_no_tests_and_no_release_1_folder(dists: Dists) -> None:
    """The source distribution builds the same package: no tests/, providers/ or emulator."""
    with tarfile.open(dists.sdist) as sdist:
        top = {Path(name).parts[1] for name in sdist.getnames() if len(Path(name).parts) > 1}
    assert {"tests", "providers", "gamelift_emulator", "testkit"} & top == set()
    assert "gamelift_backfill" in top


def test_metadata_pins_the_tested_runtime_versions(dists: Dists) -> None:
    """The wheel requires exactly the versions requirements.txt pins for what it imports."""
    with zipfile.ZipFile(dists.wheel) as wheel:
        [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        requires = {
            line.split(": ", 1)[1]
            for line in wheel.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist: ")
        }
    pins = {
        line.strip()
        for line in (REPOSITORY / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert requires == {
        pin for pin in pins if pin.split("==")[0] in ("pulumi", "boto3", "botocore")
    }


# -- what the installed wheel does -----------------------------------------------------------


def test_venv_imports_the_package_from_the_wheel_and_no_providers(
    venv: WheelVenv, outside: Path
) -> None:
    """In the new virtualenv gamelift_backfill comes from the wheel and `providers` does
    not exist."""
    code = (
        "import importlib.util, gamelift_backfill\n"
        "print(gamelift_backfill.__file__)\n"
        "print(importlib.util.find_spec('providers'))\n"
    )
    done = run_in(venv, outside, venv.python, "-c", code)
    assert done.returncode == 0, done.stderr
    location, providers = done.stdout.split()
    assert Path(location).is_relative_to(venv.site_packages)
    assert providers == "None"


def test_console_command_drains_against_the_emulator(
    venv: WheelVenv, outside: Path, world: World, emulator: Emulator
) -> None:
    """`gamelift-backfill drain` from the wheel stops every backfill ticket of the fleet."""
    tickets = world.tickets(3)
    done = run_in(
        venv,
        outside,
        venv.script("gamelift-backfill"),
        "drain",
        "--fleet-id",
        world.fleet_id,
        "--region",
        REGION,
        "--endpoint-url",
        emulator.endpoint_url,
        "--json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    envelope = json.loads(done.stdout)
    assert envelope["success"] is True
    assert envelope["data"]["stopped"] == len(tickets)
    assert world.active_tickets() == []
    assert all(world.status(t) == "CANCELLED" for t in tickets)


def test_console_command_names_itself(venv: WheelVenv, outside: Path) -> None:
    """`gamelift-backfill --help` shows the installed command's own name and the same three
    commands as `python -m providers`."""
    done = run_in(venv, outside, venv.script("gamelift-backfill"), "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: gamelift-backfill ")
    assert "{stop,drain,status}" in done.stdout


def test_dynamic_guard_from_the_package_is_created_and_destroyed(
    venv: WheelVenv, outside: Path, world: World, emulator: Emulator
) -> None:
    """A guard whose provider the installed package serialized refers only to
    gamelift_backfill, and the plugin (project outside the checkout) creates it and its
    destroy drains the fleet."""
    serialized = serialized_provider(
        venv, outside, "gamelift_backfill.backfill_guard", "BackfillGuardProvider"
    )
    assert referenced_modules(serialized) == {"gamelift_backfill.backfill_guard"}
    args = BackfillGuardArgs(fleet_ids=[world.fleet_id], endpoint_url=emulator.endpoint_url)
    news = {**args.to_props(), "__provider": Secret(serialized)}
    tickets = world.tickets(2)
    with plugin(venv, outside) as host:
        checked = host.check(GUARD_URN, {}, news)
        assert checked.failures == []
        created = host.create(GUARD_URN, checked.inputs)
        assert created.outs["active_ticket_count"] == len(tickets)
        host.delete(created.id, GUARD_URN, state_round_trip(created.outs))
    assert world.active_tickets() == []


# -- migration of release-1 state ------------------------------------------------------------


@dataclass(frozen=True)
class Release1:
    """One committed release-1 state and how to bring its resource to life."""

    fixture: str
    urn: str
    module: str
    provider: str
    program: Callable[[dict[str, Any]], dict[str, Any]]  # the program's inputs for a state
    seed: Callable[[World, dict[str, Any]], list[str]]  # live tickets; returns their IDs


def _seed_guard(world: World, state: dict[str, Any]) -> list[str]:
    [fleet] = state["fleet_ids"]
    world.control.create_fleet(fleet_id=fleet)
    world.fleet_id = fleet
    return world.tickets(2)


def _seed_ticket(world: World, state: dict[str, Any]) -> list[str]:
    world.gamelift.start_match_backfill(
        TicketId=state["ticket_id"],
        ConfigurationName=state["configuration_name"],
        GameSessionArn=world.session()["GameSessionId"],
        Players=normalize_players(state["players"].value),  # stored floats, as gRPC gave
    )
    return [str(state["ticket_id"])]


def _guard_program(state: dict[str, Any]) -> dict[str, Any]:
    args = BackfillGuardArgs(
        fleet_ids=state["fleet_ids"],
        configuration_name=state["configuration_name"],
        endpoint_url=state["endpoint_url"],
        stop_timeout_seconds=int(state["stop_timeout_seconds"]),
    )
    return args.to_props()


def _ticket_program(state: dict[str, Any]) -> dict[str, Any]:
    args = BackfillTicketArgs(
        ticket_id=state["ticket_id"],
        endpoint_url=state["endpoint_url"],
        stop_timeout_seconds=int(state["stop_timeout_seconds"]),
    )
    return args.to_props()


RELEASE_1 = [
    Release1(
        "backfill_guard_v1.json",
        GUARD_URN,
        "gamelift_backfill.backfill_guard",
        "BackfillGuardProvider",
        _guard_program,
        _seed_guard,
    ),
    Release1(
        "backfill_ticket_v1.json",
        TICKET_URN,
        "gamelift_backfill.backfill_ticket",
        "BackfillTicketProvider",
        _ticket_program,
        _seed_ticket,
    ),
]


@pytest.fixture(params=RELEASE_1, ids=lambda r: r.fixture)
def release_1(request: pytest.FixtureRequest) -> Release1:
    """Each committed release-1 state."""
    kind: Release1 = request.param
    return kind


@pytest.fixture
def package_plugin(venv: WheelVenv, outside: Path) -> Iterator[PluginHost]:
    """The plugin of a project that has the package installed and no `providers/` folder."""
    with plugin(venv, outside) as host:
        yield host


def test_release_1_state_moves_to_the_package_with_one_update(
    release_1: Release1,
    venv: WheelVenv,
    outside: Path,
    package_plugin: PluginHost,
    world: World,
    emulator: Emulator,
) -> None:
    """One `pulumi up` with the package (check, diff, update through the plugin) re-records
    the provider reference of a release-1 state; the destroy then works with only the
    package installed, where the release-1 state itself could not be destroyed."""
    state = from_state(json.loads((STATE_DIR / release_1.fixture).read_text()))
    assert referenced_modules(state["__provider"].value) <= {
        "providers.backfill_guard",
        "providers.backfill_ticket",
    }
    state["endpoint_url"] = emulator.endpoint_url
    tickets = release_1.seed(world, state)
    resource_id = str(state.get("ticket_id") or "guard-v1")
    host = package_plugin

    # Without the migration, this project cannot destroy the release-1 state.
    with pytest.raises(PluginError) as refused:
        host.delete(resource_id, release_1.urn, state)
    assert "No module named 'providers'" in refused.value.details

    serialized = serialized_provider(venv, outside, release_1.module, release_1.provider)
    news = {**release_1.program(state), "__provider": Secret(serialized)}
    checked = host.check(release_1.urn, state, news)
    assert checked.failures == []
    diff = host.diff(resource_id, release_1.urn, state, checked.inputs)
    assert (diff.changes, diff.replaces) == ("some", [])
    updated = host.update(resource_id, release_1.urn, state, checked.inputs)
    stored = state_round_trip(updated.outs)
    provider = stored["__provider"]
    assert referenced_modules(getattr(provider, "value", provider)) == {release_1.module}
    for key in state.keys() - {"__provider", "status", "status_reason", "active_ticket_count"}:
        # Every output kept (secrecy of `players` is the engine's, from the resource's
        # additional_secret_outputs, which this host does not model).
        assert strip_secrets(stored.get(key)) == strip_secrets(state[key]), key

    # The next `pulumi up` sees no change: the reference was the only difference.
    again = host.diff(resource_id, release_1.urn, stored, checked.inputs)
    assert again.changes == "none"

    host.delete(resource_id, release_1.urn, stored)
    assert [t for t in tickets if world.status(t) != "CANCELLED"] == []


def test_release_1_provider_fixtures_decode_without_loading(release_1: Release1) -> None:
    """The committed states name their release-1 module; reading that needs no import."""
    state = json.loads((STATE_DIR / release_1.fixture).read_text())
    serialized = json.loads(state["__provider"]["plaintext"])
    expected = release_1.module.replace("gamelift_backfill.", "providers.")
    assert referenced_modules(serialized) == {expected}
    assert expected.encode() in base64.b64decode(serialized)
