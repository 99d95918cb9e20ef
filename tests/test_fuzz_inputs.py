"""Property-based fuzzing of the providers' Check and of the CLI's arguments (hypothesis).

Seeded (``derandomize=True``) so every run tries the same examples; no deadline, so a slow
machine cannot make it flaky. Check must never raise and must report only failures that
name a real property; the CLI must never print a traceback, must always exit with a
documented code, must print exactly one JSON envelope under ``--json``, and must make no
GameLift call when it reports a validation error.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pulumi.dynamic import ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime import rpc

from gamelift_backfill import backfill_guard, backfill_ticket, cli
from gamelift_backfill.core.clients import clear_client_cache
from gamelift_emulator import Emulator

FUZZ = settings(
    derandomize=True,
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# The exit codes of the CLI's module docstring (0, 2 and gamelift_backfill.core.errors' classes).
DOCUMENTED_EXIT_CODES = {0, 1, 2, 3, 4, 5, 6, 7}

HUGE_STRING = "x" * 100_000
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [rpc.UNKNOWN, "", " ", "\x00", "arn:aws:gamelift:::", HUGE_STRING, "fleet-1", "t-1"]
    ),
    st.builds(Unknown),
)
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=12),
        st.dictionaries(st.text(max_size=12), children, max_size=6),
    ),
    max_leaves=25,
)


def property_bag(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """Any subset of the real inputs with arbitrary values, plus junk keys."""
    real = st.fixed_dictionaries({}, optional={name: json_like for name in names})
    junk = st.dictionaries(st.text(max_size=12), json_like, max_size=3)
    return st.builds(lambda given, extra: {**extra, **given}, real, junk)


def _players_like() -> st.SearchStrategy[Any]:
    """Player lists that get past the first shape checks, with junk inside."""
    player = st.fixed_dictionaries(
        {},
        optional={
            "PlayerId": json_like,
            "PlayerAttributes": st.dictionaries(
                st.text(max_size=8),
                st.dictionaries(st.sampled_from(["S", "N", "SL", "SDM", "X"]), json_like),
            ),
            "Team": json_like,
            "LatencyInMs": st.dictionaries(st.text(max_size=12), json_like),
        },
    )
    return st.lists(player, max_size=4)


def _root(field: str) -> str:
    """``players[0].Team`` -> ``players``; ``ticket_ids key 'x'`` -> ``ticket_ids``."""
    match = re.match(r"[A-Za-z_]+", field)
    return match.group(0) if match else field


def _assert_check_is_total(
    provider: ResourceProvider, names: tuple[str, ...], olds: Any, news: dict[str, Any]
) -> None:
    result = provider.check(olds, news)
    assert isinstance(result.inputs, dict)
    for failure in result.failures or []:
        assert _root(failure.property) in names, failure
        assert isinstance(failure.reason, str)
        assert failure.reason


@FUZZ
@given(
    olds=json_like,
    news=property_bag(backfill_ticket.INPUT_NAMES),
    players=st.none() | _players_like(),
)
def test_ticket_check_never_raises_and_names_real_properties(
    olds: Any, news: dict[str, Any], players: list[Any] | None
) -> None:
    """BackfillTicket's check, on any JSON-like inputs, returns failures naming its inputs."""
    if players is not None:
        news = {**news, "players": players}
    provider = backfill_ticket.BackfillTicketProvider()
    _assert_check_is_total(provider, backfill_ticket.INPUT_NAMES, olds, news)


@FUZZ
@given(olds=json_like, news=property_bag(backfill_guard.INPUT_NAMES))
def test_guard_check_never_raises_and_names_real_properties(
    olds: Any, news: dict[str, Any]
) -> None:
    """BackfillGuard's check, on any JSON-like inputs, returns failures naming its inputs."""
    provider = backfill_guard.BackfillGuardProvider()
    _assert_check_is_total(provider, backfill_guard.INPUT_NAMES, olds, news)


# -- the CLI ------------------------------------------------------------------------------

# Junk without ":" or "/": it can never be a URL, so no example reaches past loopback.
junk = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters=":/"), max_size=20),
    st.sampled_from(
        ["", " ", "-", "--", "-x", "--bogus", "0", "-1", "1e999", "nan", "inf", "0.01", "101"]
    ),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
ENDPOINTS = ["http://example.com", "http://169.254.169.254", "ftp://127.0.0.1", "http://x\\@y"]


def _option(endpoint: str) -> st.SearchStrategy[list[str]]:
    value_options = [
        "--region",
        "--endpoint-url",
        "--timeout",
        "--max-concurrency",
        "--fleet-id",
        "--configuration-name",
        "--ticket-id",
    ]
    good = {
        "--region": st.sampled_from(["us-east-1", "us-west-2"]),
        "--endpoint-url": st.sampled_from([endpoint, *ENDPOINTS]),
        "--timeout": st.sampled_from(["0.05", "1", "60"]),
        "--max-concurrency": st.sampled_from(["1", "10"]),
        "--fleet-id": st.sampled_from(["fleet-1", "fleet-x"]),
        "--configuration-name": st.sampled_from(["cfg"]),
        "--ticket-id": st.sampled_from(["t-1", "t-2"]),
    }
    with_value = st.sampled_from(value_options).flatmap(
        lambda name: st.tuples(st.just(name), st.one_of(good[name], junk)).map(list)
    )
    return st.one_of(with_value, st.just(["--json"]), junk.map(lambda value: [value]))


def _argv(endpoint: str) -> st.SearchStrategy[list[str]]:
    command = st.sampled_from(["stop", "drain", "status", "nope", ""]).map(lambda c: [c])
    parts = st.lists(st.one_of(_option(endpoint), command), max_size=8)
    # Half of the examples start from a well-formed command, so that many get past parsing.
    valid = st.sampled_from(
        [["status", "t-1"], ["stop", "t-1", "t-2"], ["drain", "--fleet-id", "fleet-1"]]
    ).map(lambda base: [[*base, "--region", "us-east-1"]])
    nothing: list[list[str]] = []
    prefix = st.one_of(st.just(nothing), valid)
    return st.tuples(prefix, parts).map(
        lambda both: [token for group in [*both[0], *both[1]] for token in group]
    )


def _is_help(argv: list[str]) -> bool:
    """``-h``/``--help`` (or an abbreviation argparse accepts) before any ``--``."""
    options = argv[: argv.index("--")] if "--" in argv else argv
    return any(
        token == "-h" or (len(token) > 2 and "--help".startswith(token)) for token in options
    )


@pytest.fixture(scope="module")
def cli_emulator(_session_emulator: Emulator) -> Iterator[Emulator]:
    """The shared emulator, reset; also the endpoint the environment names."""
    _session_emulator.control.reset()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("AWS_ENDPOINT_URL_GAMELIFT", _session_emulator.endpoint_url)
        yield _session_emulator
    clear_client_cache()


@FUZZ
@given(data=st.data())
def test_cli_never_crashes_and_always_answers_in_its_documented_forms(
    cli_emulator: Emulator, data: st.DataObject
) -> None:
    """Random command lines from the real options and junk values: a documented exit code,
    no traceback, one JSON envelope under --json, and no call when arguments are refused."""
    argv = data.draw(_argv(cli_emulator.endpoint_url))
    before = cli_emulator.control.calls()
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        code = cli.main(argv)
    event(f"exit {code}")
    assert code in DOCUMENTED_EXIT_CODES
    assert "Traceback" not in stderr.getvalue()
    if _is_help(argv):
        assert code == 0
        return
    if cli._wants_json(argv):
        lines = stdout.getvalue().splitlines()
        assert len(lines) == 1, stdout.getvalue()
        envelope = json.loads(lines[0])
        assert envelope["success"] is (code == 0 or code == cli.STILL_ACTIVE_EXIT_CODE)
        if not envelope["success"]:
            assert set(envelope["error"]) == {"code", "message"}
    if code == 2:
        assert cli_emulator.control.calls() == before


@pytest.mark.parametrize("number", [10**400, -(10**400)])
def test_numbers_too_large_for_a_float_are_property_failures(number: int) -> None:
    """An integer no float can hold fails check on its property instead of raising."""
    guard = backfill_guard.BackfillGuardProvider().check(
        {}, {"fleet_ids": ["fleet-1"], "max_concurrency": number, "stop_timeout_seconds": number}
    )
    assert {f.property for f in guard.failures or []} == {"max_concurrency", "stop_timeout_seconds"}
    players = [{"PlayerId": "p", "LatencyInMs": {"us-east-1": number}}]
    ticket = backfill_ticket.BackfillTicketProvider().check(
        {}, {"configuration_name": "cfg", "players": players, "region": "us-east-1"}
    )
    expected = [] if number > 0 else ["players[0].LatencyInMs.us-east-1"]  # no maximum
    assert [f.property for f in ticket.failures or []] == expected
