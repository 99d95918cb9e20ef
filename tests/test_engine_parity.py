"""The test host (`testkit.plugin_host`) against the real Pulumi engine's own calls.

tests/fixtures/engine_calls/{dynamic,native}.json are what the Pulumi CLI v3.276.0 sent to
our two plugins (``PULUMI_DEBUG_GRPC``), running the programs of
tests/fixtures/engine_observation/ against the emulator: preview with an unknown input, up,
refresh, an in-place update, a replacement, a delete that fails, a destroy interrupted by
SIGINT, destroy, import. tests/record_engine_calls.py regenerates them where the CLI is built.

Each test reads one behaviour off that record and checks that the host does the same with
the same plugin, so tests written on the host meet the engine users run. No CLI is needed:
the tests run everywhere.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from native_helpers import native_plugin

from gamelift_backfill.backfill_guard import BackfillGuardProvider
from gamelift_backfill.backfill_ticket import BackfillTicketProvider
from gamelift_backfill.reference import GUARD_TOKEN, TICKET_TOKEN
from gamelift_emulator import Emulator, EmulatorControl
from testkit.plugin_host import (
    UNKNOWN,
    ConfigCheckError,
    PluginHost,
    Secret,
    SentCall,
    make_urn,
    program_inputs,
    state_round_trip,
    type_token,
)
from testkit.world import REGION, World, make_world

RECORDS_DIR = Path(__file__).resolve().parent / "fixtures" / "engine_calls"
KINDS = ("dynamic", "native")
SECRET_SIG = "4dabf18193072939515e22adb298388d"
# Request fields only the engine sets: its resource-status service and the addresses of its
# own loader/mapper/resolver services (our plugins use none of them).
ENGINE_ONLY_FIELDS = {
    "resourceStatusAddress",
    "resourceStatusToken",
    "loaderTarget",
    "mapperTarget",
    "resolverTarget",
}
# What the engine sets only in the calls it was seen making (``timeout`` needs
# customTimeouts, ``preview`` a plugin that supports previews: neither plugin does).
OPTIONAL_FIELDS = {"timeout", "preview", "ignoreChanges"}


def record(kind: str) -> dict[str, dict[str, Any]]:
    """The engine's operations for ``kind``, by name."""
    data = json.loads((RECORDS_DIR / f"{kind}.json").read_text())
    return {op["operation"]: op for op in data["operations"]}


def sessions(operation: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The plugin processes of one CLI run: each starts with Handshake."""
    runs: list[list[dict[str, Any]]] = []
    for call in operation["calls"]:
        if call["method"] == "Handshake":
            runs.append([])
        runs[-1].append(call)
    return runs


def engine_calls(kind: str, method: str) -> list[dict[str, Any]]:
    """Every call of ``method`` in every operation of the record."""
    return [
        call
        for op in record(kind).values()
        for call in op.get("calls", [])
        if call["method"] == method
    ]


def methods(calls: list[SentCall]) -> list[str]:
    return [call.method for call in calls]


def sent(host: PluginHost, method: str) -> list[SentCall]:
    return [call for call in host.sent if call.method == method]


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG) is not None


# -- hosts as the observation programs use them -----------------------------------------------


@pytest.fixture
def world(control: EmulatorControl, gamelift: Any) -> World:
    """A fleet and an AUTOMATIC configuration on the reset emulator."""
    made = make_world(control, gamelift)
    made.configuration("cfg")
    return made


class Program:
    """The observation program's two resources on one plugin, as the host drives them."""

    def __init__(self, kind: str, host: PluginHost, world: World, endpoint_url: str) -> None:
        self.kind, self.host, self.world, self.endpoint_url = kind, host, world, endpoint_url
        native = kind == "native"
        self.guard_urn = make_urn(
            "guard", GUARD_TOKEN if native else type_token_of("guard"), project="parity"
        )
        self.ticket_urn = make_urn(
            "ticket", TICKET_TOKEN if native else type_token_of("ticket"), project="parity"
        )

    def props(self, resource: str, **values: Any) -> dict[str, Any]:
        """Inputs in the plugin's names (camelCase native, snake_case dynamic)."""
        if self.kind == "native":
            return {_camel(k): v for k, v in values.items()}
        provider = BackfillGuardProvider() if resource == "guard" else BackfillTicketProvider()
        return program_inputs(provider, values)

    def guard_inputs(self) -> dict[str, Any]:
        return self.props(
            "guard",
            fleet_ids=[self.world.fleet_id],
            configuration_name="cfg",
            endpoint_url=Secret(self.endpoint_url),
            stop_timeout_seconds=30,
        )

    def ticket_inputs(self, ticket_id: str, configuration: Any = "cfg") -> dict[str, Any]:
        return self.props(
            "ticket", ticket_id=ticket_id, configuration_name=configuration, stop_timeout_seconds=30
        )


def type_token_of(resource: str) -> str:
    from gamelift_backfill.backfill_guard import BackfillGuard
    from gamelift_backfill.backfill_ticket import BackfillTicket

    return type_token(BackfillGuard if resource == "guard" else BackfillTicket)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@pytest.fixture(params=KINDS)
def program(request: pytest.FixtureRequest, emulator: Emulator, world: World) -> Iterator[Program]:
    """The observation program's plugin (dynamic or native), configured as in the record."""
    kind: str = request.param
    url = emulator.endpoint_url
    if kind == "native":
        with native_plugin(url) as host:
            yield Program(kind, host, world, url)
        return
    config: dict[str, str | Secret] = {
        "gamelift-backfill:region": REGION,
        "gamelift-backfill:endpointUrl": url,
        "parity:guardEndpoint": Secret(url),
    }
    with PluginHost(config=config) as host:
        yield Program(kind, host, world, url)


def up(program: Program, urn: str, news: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    checked = program.host.check(urn, {}, news)
    assert checked.failures == []
    created = program.host.create(urn, checked.inputs)
    return created.id, state_round_trip(created.outs)


# -- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_records_cover_every_operation(kind: str) -> None:
    """The committed record holds every operation the issue asks to observe, with calls."""
    ops = record(kind)
    for name in (
        "preview-create",
        "up-create",
        "refresh",
        "preview-update-in-place",
        "up-update-in-place",
        "up-replace",
        "destroy-failed",
        "destroy-cancelled",
        "destroy",
    ):
        assert ops[name]["calls"], name
    assert ops["destroy-failed"]["exit_code"] != 0
    assert ops["destroy"]["exit_code"] == 0


def test_a_run_opens_with_handshake_plugin_info_checkconfig_configure(program: Program) -> None:
    """Like the engine, the host starts each plugin with Handshake and GetPluginInfo, then
    CheckConfig and Configure when the program runs (up/preview), Configure alone otherwise."""
    ops = record(program.kind)
    up_start = [c["method"] for c in sessions(ops["up-create"])[0][:4]]
    destroy_start = [c["method"] for c in sessions(ops["destroy"])[-1][:3]]
    assert up_start == ["Handshake", "GetPluginInfo", "CheckConfig", "Configure"]
    assert destroy_start == ["Handshake", "GetPluginInfo", "Configure"]

    program.host.check(program.guard_urn, {}, program.guard_inputs())
    assert methods(program.host.sent[:5]) == [*up_start, "Check"]

    destroying = PluginHost(
        program.host.project_dir,
        command=program.host.command,
        package=program.host.package,
        config=program.host.config,
        runs_program=False,
    )
    with destroying:
        destroying.configure()
        assert methods(destroying.sent) == destroy_start


def test_a_provider_setting_checkconfig_refuses_stops_the_run_before_configure(
    emulator: Emulator,
) -> None:
    """An endpoint the native plugin's CheckConfig refuses ends the engine's run before
    Configure, with the failure naming endpointUrl; the host raises it the same way."""
    calls = record("native")["preview-bad-provider-config"]["calls"]
    assert [c["method"] for c in calls] == ["Handshake", "GetPluginInfo", "CheckConfig", "Cancel"]
    [failure] = calls[2]["response"]["failures"]
    assert failure["property"] == "endpointUrl"

    with native_plugin(emulator.endpoint_url, endpointUrl="http://gamelift.example.com") as host:
        with pytest.raises(ConfigCheckError) as refused:
            host.configure()
        assert [f.property for f in refused.value.failures] == ["endpointUrl"]
        assert failure["reason"] == refused.value.failures[0].reason
    assert methods(host.sent) == ["Handshake", "GetPluginInfo", "CheckConfig", "Cancel"]
    # The dynamic plugin does not implement CheckConfig: the engine configures it anyway and
    # the resources' own Check reports the endpoint (the host goes on the same way).
    dynamic = record("dynamic")["preview-bad-provider-config"]["calls"]
    assert [c["method"] for c in dynamic][2:5] == ["CheckConfig", "Configure", "Check"]
    assert "Unimplemented" in dynamic[2]["errors"][0]
    ticket_check = dynamic[-2]
    assert [f["property"] for f in ticket_check["response"]["failures"]] == ["endpoint_url"]


def test_every_plugin_session_ends_with_cancel(program: Program) -> None:
    """The engine sends Cancel at the end of every run, interrupted or not; so does the host."""
    for name, op in record(program.kind).items():
        for session in sessions(op) if "calls" in op else []:
            assert session[-1]["method"] == "Cancel", name
    program.host.configure()
    program.host.close()
    assert program.host.sent[-1].method == "Cancel"


def test_handshake_and_configure_carry_the_engines_flags(program: Program) -> None:
    """Handshake and Configure carry the flags the engine sets; both plugins answer
    Handshake UNIMPLEMENTED and the engine goes on, as the host does."""
    [handshake, *_] = engine_calls(program.kind, "Handshake")
    assert "Unimplemented" in handshake["errors"][0]
    host_handshake = sent(program.host, "Handshake")[0]
    assert host_handshake.error == "UNIMPLEMENTED"
    assert set(handshake["fields"]) - ENGINE_ONLY_FIELDS == set(host_handshake.request)

    [configure, *_] = engine_calls(program.kind, "Configure")
    program.host.configure()
    host_configure = sent(program.host, "Configure")[-1].request
    assert set(configure["fields"]) == set(host_configure)
    for flag in ("acceptSecrets", "acceptResources", "sendsOldInputs", "sendsOldInputsToDelete"):
        assert configure[flag] is True
        assert host_configure[flag] is True
    assert configure.get("response", {}).get("acceptSecrets", False) == (
        program.host.configure_info is not None and program.host.configure_info.accept_secrets
    )


def test_configure_args_keep_secrets_and_variables_do_not(program: Program) -> None:
    """Configure's ``args`` hold the config with secrets wrapped, ``variables`` plain strings
    named ``<package>:config:<key>``: the whole stack config for the dynamic plugin, the
    provider's own keys for the native one."""
    [configure, *_] = engine_calls(program.kind, "Configure")
    prefix = f"{program.host.package}:config:"
    assert all(key.startswith(prefix) for key in configure["variables"])
    assert all(isinstance(value, str) for value in configure["variables"].values())
    program.host.configure()
    request = sent(program.host, "Configure")[-1].request
    assert all(key.startswith(prefix) for key in request["variables"])
    if program.kind == "dynamic":
        secret_key = "engine-observation:guardEndpoint"
        assert is_secret(configure["args"][secret_key])
        assert configure["variables"][prefix + secret_key] == "<endpoint>"
        assert "gamelift-backfill:region" in configure["args"]
        assert is_secret(request["args"]["parity:guardEndpoint"])
        assert not is_secret(request["variables"][prefix + "parity:guardEndpoint"])
    else:
        assert set(configure["args"]) == {"region", "endpointUrl"} == set(request["args"])


def test_check_on_create_gets_empty_olds_and_32_random_bytes(program: Program) -> None:
    """On a create the engine's Check has empty olds and old outputs and a 32-byte random
    seed; the host sends the same."""
    check = next(c for c in engine_calls(program.kind, "Check") if c["olds"] == {})
    assert check["randomSeed"] == "<32 random bytes>"
    assert {"olds", "oldOutputs", "randomSeed"} <= set(check["fields"])
    program.host.check(program.guard_urn, {}, program.guard_inputs())
    request = sent(program.host, "Check")[-1].request
    assert set(check["fields"]) == set(request)
    assert request["olds"] == {}
    assert request["oldOutputs"] == {}
    assert len(base64.b64decode(request["randomSeed"])) == 32


def test_check_on_update_gets_state_inputs_as_olds_and_outputs_as_old_outputs() -> None:
    """On an update the engine's Check has the inputs in state as olds and the outputs in
    state as old outputs (never the outputs as olds)."""
    for kind in KINDS:
        ops = record(kind)
        created = [c for c in ops["up-create"]["calls"] if c["method"] == "Create"]
        check = next(c for c in ops["up-update-in-place"]["calls"] if c["method"] == "Check")
        create = next(c for c in created if c["urn"] == check["urn"])
        assert set(check["olds"]) == set(create["properties"])
        assert set(check["oldOutputs"]) == set(create["response"]["properties"])


def test_preview_sends_unknowns_to_check_and_never_creates(program: Program) -> None:
    """At preview the engine sends the unknown sentinel to Check and calls no Create or
    Update (neither plugin supports previews); the host does the same."""
    ops = record(program.kind)
    [_, ticket_check] = [c for c in ops["preview-create"]["calls"] if c["method"] == "Check"]
    name = "configurationName" if program.kind == "native" else "configuration_name"
    assert ticket_check["news"][name] == UNKNOWN
    for op in ("preview-create", "preview-update-in-place", "preview-replace"):
        assert not {"Create", "Update", "Delete"} & {c["method"] for c in ops[op]["calls"]}

    news = program.ticket_inputs("t-preview", configuration=UNKNOWN)
    checked = program.host.check(program.ticket_urn, {}, news)
    assert sent(program.host, "Check")[-1].request["news"][name] == UNKNOWN
    planned = program.host.create(program.ticket_urn, checked.inputs, preview=True)
    assert planned.plugin_called is False
    assert sent(program.host, "Create") == []


def test_secret_inputs_reach_each_plugin_as_the_engine_sends_them(program: Program) -> None:
    """A secret input reaches the dynamic plugin stripped and the native plugin wrapped, as
    the engine sends it; both leave it secret in the state the host builds."""
    ops = record(program.kind)
    guard_check = next(c for c in ops["up-create"]["calls"] if c["method"] == "Check")
    name = "endpointUrl" if program.kind == "native" else "endpoint_url"
    assert is_secret(guard_check["news"][name]) == (program.kind == "native")
    [guard_state] = [
        r for r in ops["state-after-up"]["state"]["resources"] if r["urn"].endswith("::guard")
    ]
    assert guard_state["inputs"][name] == "<secret>"
    assert guard_state["outputs"][name] == "<secret>"

    checked = program.host.check(program.guard_urn, {}, program.guard_inputs())
    request = sent(program.host, "Check")[-1].request
    assert is_secret(request["news"][name]) == (program.kind == "native")
    assert isinstance(checked.inputs[name], Secret)
    created = program.host.create(program.guard_urn, checked.inputs)
    assert isinstance(created.outs[name], Secret)


def test_diff_update_and_delete_get_the_inputs_in_state_as_old_inputs(program: Program) -> None:
    """Diff, Update and Delete get the outputs in state as olds/properties and the inputs in
    state as old inputs; the host sends the inputs its last create or update stored."""
    ops = record(program.kind)
    for op, method in (
        ("up-update-in-place", "Diff"),
        ("up-update-in-place", "Update"),
        ("up-replace", "Delete"),
    ):
        call = next(c for c in ops[op]["calls"] if c["method"] == method)
        assert "oldInputs" in call["fields"], (op, method)
        outputs = call.get("olds", call.get("properties"))
        assert set(call["oldInputs"]) < set(outputs), (op, method)

    [ticket] = program.world.tickets(1)
    urn = program.ticket_urn
    checked = program.host.check(urn, {}, program.ticket_inputs(ticket))
    created = program.host.create(urn, checked.inputs)
    state = state_round_trip(created.outs)
    stored = sent(program.host, "Create")[-1].request["properties"]
    news = program.host.check(urn, checked.inputs, program.ticket_inputs(ticket)).inputs
    program.host.diff(created.id, urn, state, news)
    program.host.delete(created.id, urn, state)
    for method in ("Diff", "Delete"):
        assert sent(program.host, method)[-1].request["oldInputs"] == stored, method


def test_request_fields_match_the_engines(program: Program) -> None:
    """Every resource call the host sends has the fields the engine's has (bar the engine's
    own status service), through check, create, diff, update, refresh and delete."""
    [ticket] = program.world.tickets(1)
    urn = program.ticket_urn
    checked = program.host.check(urn, {}, program.ticket_inputs(ticket))
    created = program.host.create(urn, checked.inputs)
    state = state_round_trip(created.outs)
    news = {**program.ticket_inputs(ticket)}
    key = "stopTimeoutSeconds" if program.kind == "native" else "stop_timeout_seconds"
    news[key] = 3
    news = program.host.check(urn, checked.inputs, news, old_outputs=state).inputs
    program.host.diff(created.id, urn, state, news)
    state = state_round_trip(program.host.update(created.id, urn, state, news).outs)
    program.host.refresh(created.id, urn, state, news)
    program.host.delete(created.id, urn, state)
    for method in ("Check", "Create", "Diff", "Update", "Read", "Delete"):
        engine = set().union(*(c["fields"] for c in engine_calls(program.kind, method)))
        host = set().union(*(set(c.request) for c in sent(program.host, method)))
        assert engine - ENGINE_ONLY_FIELDS - OPTIONAL_FIELDS <= host, method
        assert host - OPTIONAL_FIELDS <= engine, method


def test_refresh_reads_then_diffs_what_it_read(program: Program) -> None:
    """The engine's refresh reads each resource from its outputs and inputs in state, then
    diffs the outputs read against the inputs; the host's refresh sends the same."""
    ops = record(program.kind)
    calls = sessions(ops["refresh"])[-1]
    reads = [c for c in calls if c["method"] == "Read"]
    diffs = [c for c in calls if c["method"] == "Diff"]
    assert len(reads) == len(diffs) == 2
    for read in reads:
        diff = next(d for d in diffs if d["urn"] == read["urn"])
        assert diff["olds"] == read["response"]["properties"]
        assert diff["news"] == read["inputs"] == diff["oldInputs"]

    [ticket] = program.world.tickets(1)
    urn = program.ticket_urn
    checked = program.host.check(urn, {}, program.ticket_inputs(ticket))
    created = program.host.create(urn, checked.inputs)
    state = state_round_trip(created.outs)
    inputs = sent(program.host, "Create")[-1].request["properties"]
    program.host.refresh(created.id, urn, state, checked.inputs)
    read, diff = sent(program.host, "Read")[-1].request, sent(program.host, "Diff")[-1].request
    assert read["inputs"] == inputs
    assert diff["news"] == diff["oldInputs"] == inputs
    program.host.delete(created.id, urn, state)


def test_import_reads_by_id_alone_then_checks_what_it_read(
    emulator: Emulator, world: World
) -> None:
    """`pulumi import` sends Read with the ID and no properties or inputs, then Check of the
    inputs read as both olds and news; the host's import does the same (native plugin)."""
    calls = sessions(record("native")["import"])[-2]
    read = next(c for c in calls if c["method"] == "Read")
    check = next(c for c in calls if c["method"] == "Check")
    assert "inputs" not in read["fields"]
    assert read["properties"] == {}
    assert check["olds"] == check["news"] == read["response"]["inputs"]

    [ticket] = world.tickets(1)
    urn = make_urn("imported", TICKET_TOKEN, project="parity")
    with native_plugin(emulator.endpoint_url) as host:
        imported, checked = host.import_resource(ticket, urn)
        assert checked.failures == []
        read_sent = sent(host, "Read")[-1].request
        check_sent = sent(host, "Check")[-1].request
        assert "inputs" not in read_sent
        assert check_sent["olds"] == check_sent["news"]
        host.delete(imported.id, urn, state_round_trip(imported.outs))


def test_delete_timeout_is_the_custom_timeout_in_seconds() -> None:
    """The engine sends customTimeouts.delete in seconds as Delete's ``timeout`` (3s -> 3,
    10m -> 600) and none without customTimeouts; host callers pass it the same way."""

    def timeouts(kind: str, op: str) -> list[Any]:
        calls = record(kind)[op]["calls"]
        return [c.get("timeout") for c in calls if c["method"] == "Delete"]

    assert timeouts("native", "destroy-failed") == [3]
    assert timeouts("native", "destroy-cancelled") == [600]
    assert timeouts("native", "destroy-after-import") == [None]
    # The dynamic program's customTimeouts(delete="5m") reaches the plugin too (which the
    # SDK's dynamic provider server does not hand to `delete`).
    assert timeouts("dynamic", "destroy-failed") == [300]


def test_a_failed_delete_keeps_the_resource_and_what_it_depends_on() -> None:
    """When the ticket's delete fails, the engine keeps it in state with its ID and outputs,
    never deletes the guard it depends on, and leaves no pending operation."""
    for kind in KINDS:
        ops = record(kind)
        deleted = [c["urn"] for c in ops["destroy-failed"]["calls"] if c["method"] == "Delete"]
        assert [urn.rsplit("::", 1)[-1] for urn in deleted] == ["ticket"]
        before = {r["urn"]: r.get("id") for r in ops["state-after-up"]["state"]["resources"]}
        after = ops["state-after-failed-destroy"]["state"]
        assert [r["urn"] for r in after["resources"]] == list(before)
        assert after["pending_operations"] == []


def test_cancel_reaches_the_plugin_while_delete_waits() -> None:
    """On SIGINT the engine sends Cancel while Delete is still running: the native plugin
    answers the Delete at once with an error naming the ticket, the dynamic plugin ignores
    it and the CLI waits out the delete's own deadline; the resource stays."""
    for kind in KINDS:
        op = record(kind)["destroy-cancelled"]
        calls = sessions(op)[-1]
        order = [c["method"] for c in calls]
        delete = order.index("Delete")
        assert "Cancel" in order[delete + 1 : -1], kind
        [failed] = [c for c in calls if c["method"] == "Delete"]
        assert failed.get("errors"), kind
        resources = record(kind)["state-after-cancelled-destroy"]["state"]["resources"]
        assert any(r["urn"].endswith("::ticket") for r in resources)
    native = record("native")["destroy-cancelled"]
    assert native["cli_exit_after_sigint"] == "before the delete's own deadline"
    [delete] = [c for c in native["calls"] if c["method"] == "Delete"]
    assert "cancelled while waiting for backfill ticket <ticket-2>" in delete["errors"][0]
    dynamic = record("dynamic")["destroy-cancelled"]
    assert dynamic["cli_exit_after_sigint"] == "only after the delete's own deadline"


def test_a_replacement_checks_again_then_deletes_before_it_creates() -> None:
    """When Diff asks to replace a ticket (deleteBeforeReplace), the engine checks the new
    inputs once more with empty olds, deletes the old ticket, then creates the new one:
    host tests that replace follow that order."""
    for kind in KINDS:
        calls = [
            c
            for c in sessions(record(kind)["up-replace"])[-1]
            if c.get("urn", "").endswith("::ticket")
        ]
        assert [c["method"] for c in calls] == ["Check", "Diff", "Check", "Delete", "Create"]
        diff = calls[1]["response"]
        assert diff["deleteBeforeReplace"] is True
        assert diff["replaces"] == ["ticketId" if kind == "native" else "ticket_id"]
        assert calls[2]["olds"] == {}
        assert calls[3]["id"] != calls[4]["response"]["id"]
