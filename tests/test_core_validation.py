"""Offline validation from the GameLift service model (no emulator, no AWS)."""

from __future__ import annotations

from typing import Any

import pytest

from gamelift_backfill.core.errors import Failure
from gamelift_backfill.core.validation import (
    check_endpoint_url,
    check_region,
    check_value,
    member_shape,
    normalize_number,
    validate_inputs,
)

UNKNOWN = object()


def fields(failures: list[Failure]) -> list[str]:
    return [f.field for f in failures]


def test_valid_inputs_pass_and_numbers_are_normalised() -> None:
    """Valid inputs give no failure and whole floats from gRPC become ints."""
    inputs = {
        "configuration_name": "arn:aws:gamelift:us-east-1:1:matchmakingconfiguration/cfg-1",
        "game_session_arn": "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gs-1",
        "players": [
            {
                "PlayerId": "p1",
                "Team": "red",
                "PlayerAttributes": {"skill": {"N": 10.0}, "modes": {"SL": ["a"]}},
                "LatencyInMs": {"us-east-1": 50.0},
            }
        ],
        "region": "us-east-1",
        "endpoint_url": "http://127.0.0.1:9000",
        "stop_timeout_seconds": 60.0,
        "max_concurrency": 8.0,
        "fleet_ids": ["fleet-1", "arn:aws:gamelift:us-east-1:1:fleet/fleet-2", "alias-3"],
        "ticket_ids": ["t-1"],
    }
    out, failures = validate_inputs(inputs)
    assert failures == []
    assert out["stop_timeout_seconds"] == 60
    assert isinstance(out["stop_timeout_seconds"], int)
    assert out["max_concurrency"] == 8
    assert isinstance(out["max_concurrency"], int)
    assert out["players"][0]["LatencyInMs"] == {"us-east-1": 50}


def test_failures_name_the_property_as_the_user_wrote_it() -> None:
    """Nested failures carry paths like players[0].PlayerAttributes.skill and fleet_ids[2]."""
    _, failures = validate_inputs(
        {
            "configuration_name": "bad name!",
            "players": [{"PlayerId": "p", "PlayerAttributes": {"skill": {"N": "high"}}}],
            "fleet_ids": ["fleet-1", "fleet-2", "not a fleet"],
            "ticket_id": "x" * 129,
        }
    )
    assert set(fields(failures)) == {
        "configuration_name",
        "players[0].PlayerAttributes.skill.N",
        "fleet_ids[2]",
        "ticket_id",
    }


@pytest.mark.parametrize(
    ("value", "reason_part"),
    [
        ({"S": "a", "N": 1.0}, "exactly one"),
        ({}, "exactly one"),
        ({"S": ""}, "at least 1"),
        ({"SL": "a"}, "must be a list"),
        ({"SDM": {"k": "v"}}, "must be a number"),
        ({"X": "a"}, "unknown"),
    ],
)
def test_attribute_values_are_checked_against_the_model(
    value: dict[str, Any], reason_part: str
) -> None:
    """AttributeValue takes exactly one well-typed member of S, N, SL, SDM."""
    player = {"PlayerId": "p", "PlayerAttributes": {"a": value}}
    failures = check_value([player], member_shape("StartMatchBackfill", "Players"), "players")
    assert any(reason_part in f.reason for f in failures), failures


def test_structure_required_members_are_reported() -> None:
    """A structure missing a required member names it (DescribeMatchmaking's TicketIds)."""
    from gamelift_backfill.core.validation import _service_model

    shape = _service_model().operation_model("DescribeMatchmaking").input_shape
    assert fields(check_value({}, shape, "request")) == ["request.TicketIds"]


def test_unknown_values_pass_unchecked() -> None:
    """Preview's unknown sentinel is never validated, at top level or nested."""

    def is_unknown(value: Any) -> bool:
        return value is UNKNOWN

    _, failures = validate_inputs(
        {
            "configuration_name": UNKNOWN,
            "players": [{"PlayerId": UNKNOWN, "Team": UNKNOWN}],
            "fleet_ids": [UNKNOWN, "fleet-1"],
        },
        is_unknown,
    )
    assert failures == []


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://gamelift.us-east-1.amazonaws.com", True),
        ("http://127.0.0.1:8080", True),
        ("http://127.9.9.9", True),
        ("http://[::1]:8080", True),
        ("http://localhost:1", True),
        ("http://10.0.0.1:8080", False),
        ("http://example.com", False),
        ("ftp://127.0.0.1", False),
        ("127.0.0.1:8080", False),
        ("http://127.0.0.1:99999", False),
    ],
)
def test_endpoint_url_allows_http_only_to_loopback(url: str, ok: bool) -> None:
    """Signed requests never go in clear text to a non-loopback host."""
    assert (check_endpoint_url(url) == []) is ok


@pytest.mark.parametrize(("region", "ok"), [("us-east-1", True), ("eu west", False), (3, False)])
def test_region_name_rule(region: Any, ok: bool) -> None:
    """Region names follow botocore's own validity rule."""
    assert (check_region(region) == []) is ok


@pytest.mark.parametrize(
    ("value", "expected", "ok"),
    [(60.0, 60, True), (1.5, 1.5, True), (0, None, False), (True, None, False), (1e9, None, False)],
)
def test_timeouts_are_positive_bounded_and_normalised(value: Any, expected: Any, ok: bool) -> None:
    """stop_timeout_seconds accepts positive numbers within bounds, whole floats as ints."""
    got, failures = normalize_number(value, "stop_timeout_seconds", minimum=1, maximum=86400)
    assert (failures == []) is ok
    assert got == expected


def test_max_concurrency_must_be_whole() -> None:
    """max_concurrency rejects fractions."""
    _, failures = validate_inputs({"max_concurrency": 2.5})
    assert fields(failures) == ["max_concurrency"]


def test_player_ids_never_appear_in_reasons() -> None:
    """A failing player's ID is not echoed back in the failure."""
    _, failures = validate_inputs({"players": [{"PlayerId": "secret-player", "Team": ""}]})
    assert failures
    assert all("secret-player" not in f.reason + f.field for f in failures)
