"""Security properties of the provider and the CLI (issue 6, "Security").

- ``endpoint_url`` is https://, or http:// to a loopback host; anything else (and any URL
  whose host two URL parsers could read differently) fails at check time.
- Every request is SigV4-signed: a wrong secret fails with AUTH_ERROR and a message that
  says what to fix, without the secret or the access key.
- No credential ever reaches inputs, outputs, state, logs or error messages; player IDs
  are stored only as secrets and never appear in logs or error messages.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.session
import pulumi
import pulumi.dynamic
import pytest
from backfill_ticket_helpers import engine_outputs
from botocore import xform_name
from conftest import gamelift_client
from pulumi.runtime import rpc

from gamelift_backfill import cli
from gamelift_backfill.backfill_guard import BackfillGuard, BackfillGuardArgs, BackfillGuardProvider
from gamelift_backfill.backfill_ticket import (
    BackfillTicket,
    BackfillTicketArgs,
    BackfillTicketProvider,
)
from gamelift_backfill.core.backfill_mode import disable_automatic_backfill
from gamelift_backfill.core.clients import clear_client_cache
from gamelift_backfill.core.errors import AuthError
from gamelift_backfill.core.validation import check_endpoint_url
from gamelift_emulator import Emulator
from testkit.plugin_host import (
    PROVIDER_KEY,
    PluginError,
    PluginHost,
    Secret,
    make_urn,
    program_inputs,
    state_round_trip,
    to_state,
    type_token,
)
from testkit.seeding import seed_configuration

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
ACCESS_KEY = "AKIA-CANARY-7Q3ZK9WX"
SECRET_KEY = "CANARY-SECRET-d41d8cd98f00b204e980"
WRONG_SECRET = "CANARY-WRONG-SECRET-0cc175b9c0f1b6a8"
CREDENTIALS = (ACCESS_KEY, SECRET_KEY, WRONG_SECRET)
PLAYER_IDS = ("PLAYER-CANARY-alpha-5b1e77", "PLAYER-CANARY-bravo-9c2f13")
CANARY_PLAYERS: list[dict[str, Any]] = [
    {
        "PlayerId": player_id,
        "PlayerAttributes": {"skill": {"N": 20 + i}},
        "Team": "red",
        "LatencyInMs": {REGION: 40},
    }
    for i, player_id in enumerate(PLAYER_IDS)
]
TICKET_URN = make_urn("ticket", type_token(BackfillTicket))
GUARD_URN = make_urn("guard", type_token(BackfillGuard))

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


# -- what a program registers, what the state holds ---------------------------------------


def registered_inputs(make_resource: Callable[[], object]) -> dict[str, Any]:
    """The inputs a program's resource registers, as the engine receives them.

    The resource's constructor runs with `pulumi.dynamic.Resource.__init__` intercepted;
    Output values are resolved, secret ones as `Secret`, and ``__provider`` added as the SDK
    serializes it.
    """
    seen: list[tuple[Any, dict[str, Any]]] = []

    def record(self: Any, provider: Any, name: str, props: Any, opts: Any = None) -> None:
        seen.append((provider, dict(props)))

    async def resolve() -> dict[str, Any]:
        with mock.patch.object(pulumi.dynamic.Resource, "__init__", record):
            make_resource()
        provider, props = seen[0]
        resolved: dict[str, Any] = {}
        for key, value in props.items():
            if isinstance(value, pulumi.Output):
                plain = await value.future()
                resolved[key] = Secret(plain) if await value.is_secret() else plain
            else:
                resolved[key] = value
        return program_inputs(provider, resolved)

    # A loop of its own, never made the thread's current one: `asyncio.run` would leave the
    # main thread without a loop, and later tests' Pulumi mocks need `get_event_loop()`.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(resolve())
    finally:
        loop.close()


def test_players_are_registered_as_a_secret_input() -> None:
    """BackfillTicket registers `players` as a secret, so the state's inputs keep it secret.

    `additional_secret_outputs` covers outputs only: the engine stores the inputs as the
    program gave them.
    """
    inputs = registered_inputs(
        lambda: BackfillTicket(
            "ticket",
            BackfillTicketArgs(configuration_name="cfg", players=CANARY_PLAYERS, ticket_id="t-1"),
        )
    )
    assert inputs["players"] == Secret(CANARY_PLAYERS)
    assert inputs["configuration_name"] == "cfg"


def _secret_free_strings(value: Any) -> Iterator[str]:
    """Every string of a stack-export property bag outside secret envelopes (keys too)."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return
        for key, item in value.items():
            yield str(key)
            yield from _secret_free_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _secret_free_strings(item)
    elif isinstance(value, str):
        yield value


@dataclass
class Evidence:
    """Everything a user, a log collector or a state backend could see."""

    bags: list[dict[str, Any]] = field(default_factory=list)
    """Property bags in stack-export form (inputs and outputs of each step)."""
    texts: list[str] = field(default_factory=list)
    """Error messages, plugin output, CLI output."""

    def state(self, props: dict[str, Any]) -> dict[str, Any]:
        """Record a bag as the engine stores it; return it as read back for the next call."""
        self.bags.append(to_state(props))
        return state_round_trip(props)

    def error(self, call: Callable[[], object]) -> PluginError:
        """Run a call that must fail; record and return its error."""
        with pytest.raises(PluginError) as raised:
            call()
        self.texts.append(raised.value.details)
        return raised.value

    def assert_clean(self, player_ids: set[str]) -> None:
        """No credential anywhere; player IDs only inside secret envelopes of the state."""
        assert player_ids
        exported = json.dumps(self.bags)
        providers = [
            base64.b64decode(bag[PROVIDER_KEY]["plaintext"].strip('"')).decode("latin-1")
            for bag in self.bags
            if PROVIDER_KEY in bag
        ]
        for text in [exported, *providers, *self.texts]:
            for credential in CREDENTIALS:
                assert credential not in text
        clear = "\\n".join(s for bag in self.bags for s in _secret_free_strings(bag))
        for text in [clear, *self.texts]:
            for player_id in player_ids:
                assert player_id not in text


@dataclass
class Canary:
    """An emulator that knows only the canary credentials, seeded, and its player IDs."""

    emulator: Emulator
    gamelift: Any
    fleet_id: str

    def session(self) -> dict[str, Any]:
        """A matchmade, non-full session of the AUTOMATIC configuration (with a ticket)."""
        return self.emulator.control.create_game_session(self.fleet_id, "auto", 2, 8)

    def player_ids(self) -> set[str]:
        """Every player ID GameLift holds (the canaries and those it generated)."""
        tickets = self.emulator.control.tickets()
        return {p["PlayerId"] for t in tickets for p in t.get("Players", [])} | set(PLAYER_IDS)


@pytest.fixture
def canary(
    make_emulator: Callable[..., Emulator], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Canary]:
    """Canary credentials in the environment (and only they are valid); a seeded emulator."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    emulator = make_emulator(region=REGION, credentials={ACCESS_KEY: (SECRET_KEY, ACCOUNT_ID)})
    gamelift = gamelift_client(emulator.endpoint_url, REGION, ACCESS_KEY, SECRET_KEY)
    seed_configuration(gamelift, "cfg", backfill_mode="MANUAL", timeout_seconds=600)
    seed_configuration(gamelift, "auto", backfill_mode="AUTOMATIC", timeout_seconds=600)
    fleet = emulator.control.create_fleet()
    yield Canary(emulator, gamelift, fleet["fleet_id"])
    clear_client_cache()  # no client with these credentials outlives the test


def _plugin() -> PluginHost:
    """The real plugin, with the environment of the test and AWS-provider-style secrets in
    the stack config (which the provider must ignore)."""
    config: dict[str, str | Secret] = {
        "aws:region": REGION,
        "aws:accessKey": ACCESS_KEY,
        "aws:secretKey": Secret(SECRET_KEY),
    }
    return PluginHost(config=config)


def _ticket(name: str = "ticket", **args: Any) -> dict[str, Any]:
    return registered_inputs(lambda: BackfillTicket(name, BackfillTicketArgs(**args)))


def _guard(**args: Any) -> dict[str, Any]:
    return registered_inputs(lambda: BackfillGuard("guard", BackfillGuardArgs(**args)))


def _ticket_lifecycle(host: PluginHost, news: dict[str, Any], evidence: Evidence) -> None:
    """check, create, refresh, update (timeout), delete; every bag recorded."""
    checked = host.check(TICKET_URN, {}, news)
    assert checked.failures == []
    inputs = evidence.state(checked.inputs)
    created = host.create(TICKET_URN, checked.inputs)
    state = evidence.state(engine_outputs(created.outs))
    read = host.read(created.id, TICKET_URN, state, inputs=inputs)
    state = evidence.state(engine_outputs(read.outs))
    changed = host.check(TICKET_URN, inputs, {**news, "stop_timeout_seconds": 45})
    evidence.state(changed.inputs)
    diff = host.diff(created.id, TICKET_URN, state, changed.inputs)
    assert (diff.changes, diff.replaces) == ("some", [])
    updated = host.update(created.id, TICKET_URN, state, changed.inputs)
    state = evidence.state(engine_outputs(updated.outs))
    assert state["stop_timeout_seconds"] == 45
    host.delete(created.id, TICKET_URN, state)


def _guard_lifecycle(host: PluginHost, news: dict[str, Any], evidence: Evidence) -> None:
    """check, create, refresh, update (max_concurrency), delete (a drain); bags recorded."""
    checked = host.check(GUARD_URN, {}, news)
    assert checked.failures == []
    inputs = evidence.state(checked.inputs)
    created = host.create(GUARD_URN, checked.inputs)
    state = evidence.state(created.outs)
    state = evidence.state(host.read(created.id, GUARD_URN, state, inputs=inputs).outs)
    changed = host.check(GUARD_URN, inputs, {**news, "max_concurrency": 3})
    evidence.state(changed.inputs)
    state = evidence.state(host.update(created.id, GUARD_URN, state, changed.inputs).outs)
    host.delete(created.id, GUARD_URN, state)


def test_no_credential_or_player_id_leaks_through_the_plugin(canary: Canary) -> None:
    """Through the real plugin, every state bag, log line and error message of both resources
    is free of credentials, and holds player IDs only inside secret envelopes."""
    endpoint = canary.emulator.endpoint_url
    evidence = Evidence()
    with _plugin() as host:
        session = canary.session()
        started = _ticket(
            configuration_name="cfg",
            game_session_arn=session["GameSessionId"],
            players=CANARY_PLAYERS,
            ticket_id="canary-ticket-1",
            endpoint_url=endpoint,
            stop_timeout_seconds=60,
        )
        _ticket_lifecycle(host, started, evidence)
        adopted = _ticket(
            "adopted", ticket_id=canary.session()["auto_backfill_ticket_id"], endpoint_url=endpoint
        )
        _ticket_lifecycle(host, adopted, evidence)
        canary.session()
        _guard_lifecycle(host, _guard(fleet_ids=[canary.fleet_id], endpoint_url=endpoint), evidence)

        # Failure paths: refused starts, a delete and a drain that time out.
        for configuration, game_session in [
            ("no-such-configuration", session["GameSessionId"]),
            ("cfg", session["GameSessionId"].replace(canary.fleet_id, "fleet-gone")),
        ]:
            refused = host.check(
                TICKET_URN,
                {},
                _ticket(
                    configuration_name=configuration,
                    game_session_arn=game_session,
                    players=CANARY_PLAYERS,
                    endpoint_url=endpoint,
                    ticket_id="canary-refused",
                ),
            )
            evidence.error(partial(host.create, TICKET_URN, refused.inputs))
        placing = canary.session()["auto_backfill_ticket_id"]
        canary.emulator.control.set_ticket_status(placing, "PLACING")
        stuck = host.check(TICKET_URN, {}, _ticket(ticket_id=placing, endpoint_url=endpoint))
        created = host.create(TICKET_URN, stuck.inputs)
        stored = engine_outputs({**created.outs, "stop_timeout_seconds": 1})
        timeout = evidence.error(lambda: host.delete(created.id, TICKET_URN, stored))
        assert "StopTimeoutError" in timeout.provider_message
        guard = host.check(
            GUARD_URN,
            {},
            _guard(fleet_ids=[canary.fleet_id], endpoint_url=endpoint, stop_timeout_seconds=1),
        )
        guard_created = host.create(GUARD_URN, guard.inputs)
        evidence.error(lambda: host.delete(guard_created.id, GUARD_URN, guard_created.outs))
        # Check failures with player IDs in the inputs name properties, never values.
        bad = host.check(
            TICKET_URN,
            {},
            _ticket(
                configuration_name="cfg",
                players=[{**p, "Team": 7, "Extra": p["PlayerId"]} for p in CANARY_PLAYERS],
                ticket_id="t-1",
            ),
        )
        assert bad.failures
        evidence.texts += [f"{f.property}: {f.reason}" for f in bad.failures]
    evidence.texts += [host.stdout, host.stderr]
    assert "ended: CANCELLED" in host.stderr  # the logs were captured
    evidence.assert_clean(canary.player_ids())


def test_wrong_secret_is_a_clear_auth_error_through_the_plugin(
    canary: Canary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request signed with a wrong secret is refused; both resources fail with AuthError
    saying to check the credentials, and no message holds the secret or the access key."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", WRONG_SECRET)
    endpoint = canary.emulator.endpoint_url
    seeding = canary.emulator.control.calls()
    evidence = Evidence()
    with _plugin() as host:
        ticket = host.check(TICKET_URN, {}, _ticket(ticket_id="t-1", endpoint_url=endpoint))
        guard = host.check(
            GUARD_URN, {}, _guard(fleet_ids=[canary.fleet_id], endpoint_url=endpoint)
        )
        errors = [
            evidence.error(lambda: host.create(TICKET_URN, ticket.inputs)),
            evidence.error(lambda: host.create(GUARD_URN, guard.inputs)),
        ]
    for error in errors:
        assert error.provider_message.startswith("gamelift_backfill.core.errors.AuthError: ")
        assert "InvalidSignatureException" in error.provider_message
        assert "Check AWS credentials / AWS_PROFILE" in error.provider_message
    evidence.texts += [host.stdout, host.stderr]
    evidence.assert_clean(set(PLAYER_IDS))
    assert canary.emulator.control.calls() == seeding  # refused before any operation ran


def test_wrong_secret_is_auth_error_in_the_provider_and_the_cli(
    canary: Canary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Called directly, the provider raises AUTH_ERROR (exit 5 in the CLI, both output forms)
    naming the fix, without the secret or the access key."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", WRONG_SECRET)
    clear_client_cache()
    endpoint = canary.emulator.endpoint_url
    with pytest.raises(AuthError) as raised:
        BackfillTicketProvider().create(
            {"ticket_id": "t-1", "region": REGION, "endpoint_url": endpoint}
        )
    assert raised.value.code == "AUTH_ERROR"
    assert "Check AWS credentials" in str(raised.value)
    texts = [str(raised.value)]
    base = ["status", "t-1", "--region", REGION, "--endpoint-url", endpoint]
    code, stdout, stderr = _run_cli(*base, "--json")
    assert (code, json.loads(stdout)["error"]["code"]) == (5, "AUTH_ERROR")
    texts += [stdout, stderr]
    code, stdout, stderr = _run_cli(*base)
    assert code == 5
    assert stderr.startswith("error (AUTH_ERROR): ")
    assert "Check AWS credentials" in stderr
    texts += [stdout, stderr]
    for text in texts:
        for credential in CREDENTIALS:
            assert credential not in text


def test_cli_output_holds_no_credential_or_player_id(canary: Canary) -> None:
    """stop, drain and status, in both output forms, on success and on failure, print neither
    credentials nor player IDs."""
    endpoint = canary.emulator.endpoint_url
    canary.gamelift.start_match_backfill(
        TicketId="canary-manual",
        ConfigurationName="cfg",
        GameSessionArn=canary.session()["GameSessionId"],
        Players=CANARY_PLAYERS,
    )
    auto = canary.session()["auto_backfill_ticket_id"]
    common = ["--region", REGION, "--endpoint-url", endpoint, "--timeout", "30"]
    runs = [
        (["status", "canary-manual", auto], 7),
        (["stop", "canary-manual"], 0),
        (["drain", "--fleet-id", canary.fleet_id, "--ticket-id", "canary-manual"], 0),
        (["status", "canary-manual", auto], 0),
        (["drain", "--fleet-id", "fleet-missing"], 3),
        (["stop", "bad id!"], 2),
        (["status", "--nope"], 2),
    ]
    texts: list[str] = []
    for argv, expected in runs:
        for form in ([], ["--json"]):
            code, stdout, stderr = _run_cli(*argv, *common, *form)
            assert code == expected, (argv, stdout, stderr)
            texts += [stdout, stderr]
    evidence = Evidence(texts=texts)
    evidence.assert_clean(canary.player_ids())


# -- least-privilege IAM policy ------------------------------------------------------------

PROJECT_DIR = Path(__file__).resolve().parents[1]
POLICY_PATH = PROJECT_DIR / "docs" / "iam-policy.json"
IAM_DOC_PATH = PROJECT_DIR / "docs" / "iam.md"


def _operations_by_method() -> dict[str, str]:
    """GameLift's operations keyed by their boto3 method (and paginator) name."""
    model = botocore.session.get_session().get_service_model("gamelift")
    return {xform_name(name): name for name in model.operation_names}


def statically_called_operations() -> set[str]:
    """GameLift operations the shipped code calls: ``<obj>.<op_method>(...)`` and
    ``<obj>.get_paginator("<op_method>")`` anywhere under gamelift_backfill/."""
    operations = _operations_by_method()
    found: set[str] = set()
    for path in sorted((PROJECT_DIR / "gamelift_backfill").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            method = node.func.attr
            if method == "get_paginator":
                argument = node.args[0]
                assert isinstance(argument, ast.Constant), f"{path}: a computed paginator name"
                found.add(operations[str(argument.value)])
            elif method in operations:
                found.add(operations[method])
    return found


def policy_actions() -> set[str]:
    """The GameLift actions docs/iam-policy.json allows (it allows nothing else)."""
    policy = json.loads(POLICY_PATH.read_text())
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}
        for action in statement["Action"]:
            service, _, name = action.partition(":")
            assert service == "gamelift", action
            assert "*" not in name, action
            actions.add(name)
    return actions


def test_iam_policy_allows_exactly_the_operations_the_code_calls() -> None:
    """The policy's actions equal the GameLift operations found in providers/ (AST), with
    nothing missing and nothing more."""
    called = statically_called_operations()
    assert "StopMatchmaking" in called  # the derivation finds calls at all
    assert policy_actions() == called


def test_iam_policy_matches_the_operations_seen_by_the_emulator(
    emulator: Emulator, gamelift: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A create/read/update/delete of both resources and a CLI stop, drain and status call,
    as the emulator counts them, exactly the operations of the policy."""
    control = emulator.control
    endpoint = emulator.endpoint_url
    seed_configuration(gamelift, "cfg", backfill_mode="MANUAL")
    seed_configuration(gamelift, "auto", backfill_mode="AUTOMATIC")
    fleet = control.create_fleet()["fleet_id"]
    before = control.calls()
    where = {"region": REGION, "endpoint_url": endpoint, "stop_timeout_seconds": 30}

    tickets = BackfillTicketProvider()
    news = {
        "configuration_name": "cfg",
        "game_session_arn": control.create_game_session(fleet, "cfg", 2, 8)["GameSessionId"],
        **where,
    }
    created = tickets.create(tickets.check({}, news).inputs)
    outs = created.outs or {}
    tickets.read(created.id, outs)
    updated = tickets.update(created.id, outs, {**news, "stop_timeout_seconds": 20})
    tickets.delete(created.id, updated.outs or {})

    guards = BackfillGuardProvider()
    control.create_game_session(fleet, "auto", 2, 8)
    guard_news = guards.check({}, {"fleet_ids": [fleet], **where}).inputs
    guard = guards.create(guard_news)
    guard_outs = guard.outs or {}
    guards.read(guard.id, guard_outs)
    updated = guards.update(guard.id, guard_outs, {**guard_news, "max_concurrency": 2})
    guards.delete(guard.id, updated.outs or {})

    auto = control.create_game_session(fleet, "auto", 2, 8)["auto_backfill_ticket_id"]
    common = ["--region", REGION, "--endpoint-url", endpoint, "--json"]
    assert _run_cli("status", auto, *common)[0] == 7
    assert _run_cli("stop", auto, *common)[0] == 0
    control.create_game_session(fleet, "auto", 2, 8)
    assert _run_cli("drain", "--fleet-id", fleet, *common)[0] == 0
    # The opt-in that turns the guarded configuration's automatic backfill off.
    disable_automatic_backfill(gamelift, "auto")
    clear_client_cache()

    after = control.calls()
    seen = {op for op, count in after.items() if count > before.get(op, 0)}
    assert seen == policy_actions() == statically_called_operations()


def test_iam_doc_holds_the_policy_verbatim() -> None:
    """docs/iam.md, the IAM page, carries docs/iam-policy.json, character for character."""
    section = IAM_DOC_PATH.read_text()
    assert section.startswith("# IAM")
    blocks = re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL)
    assert blocks == [POLICY_PATH.read_text()]
