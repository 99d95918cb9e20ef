"""The plugin host drives the SDK's real dynamic provider plugin as the engine does.

The provider is `fixtures.echo_provider.EchoProvider`, pickled by reference like a stack's
providers; it records every call it receives in a file, so each test checks both what the host
returns and what the provider saw inside the plugin process.
"""

from __future__ import annotations

import base64
import json
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from fixtures.echo_provider import CALLS_ENV, Echo, EchoProvider

from testkit.plugin_host import (
    PLUGIN_MAX_CONCURRENT_CALLS,
    UNKNOWN,
    PluginError,
    PluginHost,
    PluginStartError,
    Secret,
    from_state,
    make_urn,
    program_inputs,
    state_round_trip,
    to_state,
    type_token,
)

TESTS_DIR = Path(__file__).resolve().parent
URN = make_urn("a", type_token(Echo))
CONFIG: dict[str, str | Secret] = {
    "echo:greeting": "hello",
    "echo:password": Secret("pa55"),
    "gamelift-backfill:greeting": "project-scoped",
}


@pytest.fixture
def calls_file(tmp_path: Path) -> Path:
    return tmp_path / "calls.jsonl"


@pytest.fixture
def host(calls_file: Path) -> Iterator[PluginHost]:
    with PluginHost(
        config=CONFIG, python_path=[TESTS_DIR], env={CALLS_ENV: str(calls_file)}
    ) as plugin_host:
        yield plugin_host


def recorded(calls_file: Path, op: str) -> list[dict[str, Any]]:
    """The calls of one operation that the provider recorded inside the plugin."""
    lines = calls_file.read_text().splitlines() if calls_file.exists() else []
    return [call for call in map(json.loads, lines) if call["op"] == op]


def inputs(**props: Any) -> dict[str, Any]:
    return program_inputs(EchoProvider(), {"name": "a", **props})


def test_type_token_and_urn_match_the_sdk() -> None:
    """A class declared with module="gamelift", name="BackfillTicket" gets the documented URN."""
    assert type_token(Echo) == "pulumi-python:dynamic/gamelift:BackfillTicket"
    assert make_urn("t") == (
        "urn:pulumi:stack::gamelift-backfill::pulumi-python:dynamic/gamelift:BackfillTicket::t"
    )


def test_provider_is_serialized_by_reference_and_secret() -> None:
    """``__provider`` is the SDK's dill pickle of the class by module path, held as a secret."""
    provider = inputs()["__provider"]
    assert isinstance(provider, Secret)
    assert b"fixtures.echo_provider" in base64.b64decode(provider.value)


def test_configure_reaches_provider_configure(host: PluginHost, calls_file: Path) -> None:
    """The whole stack config reaches `configure`: namespaced keys, secrets unwrapped."""
    info = host.configure()
    host.check(URN, {}, inputs())
    assert info.accept_secrets is False
    assert info.supports_preview is False
    [call] = recorded(calls_file, "configure")
    assert call["config"] == {
        "echo:greeting": "hello",
        "echo:password": "pa55",
        "greeting": "project-scoped",
    }


def test_check_returns_inputs_and_failures(host: PluginHost, calls_file: Path) -> None:
    """Check hands back the provider's inputs and reports failures as data, not errors."""
    checked = host.check(URN, {}, inputs(check_failure="name is too short"))
    assert checked.inputs["name"] == "a"
    assert checked.inputs["__provider"] == inputs()["__provider"]
    assert [(f.property, f.reason) for f in checked.failures] == [
        ("check_failure", "name is too short")
    ]
    assert recorded(calls_file, "check")[0]["news"]["name"] == "a"


def test_create_read_update_delete_through_state(host: PluginHost, calls_file: Path) -> None:
    """Outputs survive the state round trip and come back as olds to read, update, delete."""
    created = host.create(URN, inputs())
    assert created.id == "echo-a"
    assert created.outs["echoed_by"] == "create"
    state = state_round_trip(created.outs)

    read = host.read(created.id, URN, state)
    assert read.id == "echo-a"
    assert read.outs["echoed_by"] == "read"

    updated = host.update(created.id, URN, state, inputs(color="blue"))
    assert updated.outs["color"] == "blue"
    assert updated.outs["echoed_by"] == "update"

    host.delete(created.id, URN, state_round_trip(updated.outs))
    [deleted] = recorded(calls_file, "delete")
    assert deleted["id"] == "echo-a"
    assert deleted["props"]["color"] == "blue"
    assert deleted["props"]["__provider"] == inputs()["__provider"].value


def test_diff_reports_changes_and_replacements(host: PluginHost) -> None:
    """Diff results come back as none/some with replaces and delete-before-replace."""
    state = state_round_trip(host.create(URN, inputs()).outs)
    unchanged = host.diff("echo-a", URN, state, inputs())
    in_place = host.diff("echo-a", URN, state, inputs(color="red"))
    replace = host.diff("echo-a", URN, state, inputs(name="b"))
    assert (unchanged.changes, unchanged.replaces) == ("none", [])
    assert (in_place.changes, in_place.replaces) == ("some", [])
    assert (replace.changes, replace.replaces, replace.delete_before_replace) == (
        "some",
        ["name"],
        True,
    )


def test_preview_sends_unknowns_to_check_and_diff_only(host: PluginHost, calls_file: Path) -> None:
    """In preview the provider sees Unknown values; Create is answered by the engine itself."""
    news = inputs(later=UNKNOWN, nested={"inner": UNKNOWN})
    checked = host.check(URN, {}, news)
    diff = host.diff("echo-a", URN, inputs(), news)
    planned = host.create(URN, checked.inputs, preview=True)

    assert checked.inputs["later"] == UNKNOWN
    assert checked.inputs["nested"] == {"inner": UNKNOWN}
    assert recorded(calls_file, "check")[0]["types"]["later"] == "Unknown"
    assert diff.changes == "some"
    assert planned.plugin_called is False
    assert planned.outs["later"] == UNKNOWN
    assert recorded(calls_file, "create") == []
    with pytest.raises(ValueError, match="only during preview"):
        host.create(URN, news)


def test_secrets_are_stripped_and_reapplied_by_key(host: PluginHost, calls_file: Path) -> None:
    """The provider gets secrets in clear; only outputs whose input key was secret stay secret."""
    created = host.create(URN, inputs(password=Secret("hunter2")))
    [seen] = recorded(calls_file, "create")
    assert seen["props"]["password"] == "hunter2"
    assert created.outs["password"] == Secret("hunter2")
    assert isinstance(created.outs["__provider"], Secret)
    assert created.outs["echoed_by"] == "create"
    stored = to_state(created.outs)
    assert stored["password"]["plaintext"] == '"hunter2"'
    assert from_state(json.loads(json.dumps(stored)))["password"] == Secret("hunter2")


def test_numbers_cross_as_floats(host: PluginHost, calls_file: Path) -> None:
    """An integer input reaches the provider and comes back as a float (protobuf Struct)."""
    created = host.create(URN, inputs(timeout=60, players=[{"latency": 5}]))
    [seen] = recorded(calls_file, "create")
    assert seen["types"]["timeout"] == "float"
    assert seen["props"]["players"] == [{"latency": 5.0}]
    assert created.outs["timeout"] == 60.0
    assert isinstance(created.outs["timeout"], float)


def test_provider_exception_surfaces_as_plugin_error(host: PluginHost) -> None:
    """A provider exception becomes a PluginError carrying the provider's own message."""
    with pytest.raises(PluginError) as raised:
        host.create(URN, inputs(raise_in="create"))
    assert raised.value.method == "Create"
    assert raised.value.code == grpc.StatusCode.UNKNOWN
    assert raised.value.provider_message == "RuntimeError: echo provider refused create of 'a'"


def test_plugin_serves_four_calls_at_once(host: PluginHost) -> None:
    """Four deletes from four threads run together in the plugin (each waits for the others)."""
    state = state_round_trip(host.create(URN, inputs()).outs)
    state.update(barrier=PLUGIN_MAX_CONCURRENT_CALLS)
    with ThreadPoolExecutor(PLUGIN_MAX_CONCURRENT_CALLS) as pool:
        futures = [
            pool.submit(host.delete, f"echo-{n}", URN, state)
            for n in range(PLUGIN_MAX_CONCURRENT_CALLS)
        ]
        assert [future.result() for future in futures] == [None] * PLUGIN_MAX_CONCURRENT_CALLS


def test_plugin_serves_no_more_than_four_calls_at_once(host: PluginHost) -> None:
    """A fifth concurrent call queues: five calls waiting for each other never all meet."""
    parties = PLUGIN_MAX_CONCURRENT_CALLS + 1
    state = state_round_trip(host.create(URN, inputs()).outs)
    state.update(barrier=parties, barrier_timeout=1)
    with ThreadPoolExecutor(parties) as pool:
        futures = [pool.submit(host.delete, f"echo-{n}", URN, state) for n in range(parties)]
        errors = [future.exception() for future in futures]
    assert all(isinstance(error, PluginError) for error in errors)
    assert all("BrokenBarrierError" in str(error) for error in errors)


def test_kill_makes_calls_fail_unavailable(host: PluginHost) -> None:
    """After kill() the plugin is gone (SIGKILL) and calls fail with UNAVAILABLE."""
    host.kill()
    assert host.returncode == -signal.SIGKILL
    with pytest.raises(PluginError) as raised:
        host.check(URN, {}, inputs())
    assert raised.value.code == grpc.StatusCode.UNAVAILABLE


def test_close_stops_the_plugin(calls_file: Path) -> None:
    """close() interrupts the plugin as the engine does, and it exits without being killed."""
    plugin_host = PluginHost(python_path=[TESTS_DIR], env={CALLS_ENV: str(calls_file)})
    with plugin_host:
        plugin_host.check(URN, {}, inputs())
    assert plugin_host.returncode is not None
    assert plugin_host.returncode != -signal.SIGKILL


def test_start_failure_is_reported_with_stderr() -> None:
    """A plugin that exits before printing its port raises PluginStartError with its stderr."""
    plugin_host = PluginHost(python="/bin/sh")  # `sh -u -m pulumi.dynamic` fails at once
    with pytest.raises(PluginStartError, match=r"(?s)before printing its port.*pulumi\.dynamic"):
        plugin_host.start()


def test_serializing_leaves_the_threads_event_loop_alone() -> None:
    """Serializing a property bag does not unset the calling thread's event loop.

    ``asyncio.run`` would leave the thread with none, and the Pulumi program tests that run
    after the plugin tests (`pulumi.runtime.set_mocks`) need ``asyncio.get_event_loop()``
    on the main thread. Checked on a thread of its own so the main thread's loop is untouched.
    """
    import asyncio
    import threading

    from testkit.plugin_host import _serialize

    seen: list[bool] = []

    def serialize_then_look() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            _serialize({"a": 1})
            seen.append(asyncio.get_event_loop() is loop)
        except RuntimeError:
            seen.append(False)
        finally:
            loop.close()

    thread = threading.Thread(target=serialize_then_look)
    thread.start()
    thread.join()
    assert seen == [True]
