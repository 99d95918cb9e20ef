"""MatchmakerData parsing into StartMatchBackfill players (no emulator)."""

from __future__ import annotations

import json

import pytest

from gamelift_backfill.core.errors import MatchmakerDataError
from gamelift_backfill.core.matchmaker_data import (
    backfill_summary,
    configuration_name_of,
    parse,
    same_configuration,
)

ARN = "arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/ranked"

# Shaped like real MatchmakerData written by FlexMatch (see the GameLift server SDKs).
SAMPLE = json.dumps(
    {
        "matchId": "m-1",
        "matchmakingConfigurationArn": ARN,
        "teams": [
            {
                "name": "red",
                "players": [
                    {
                        "playerId": "p-1",
                        "attributes": {
                            "skill": {"attributeType": "DOUBLE", "valueAttribute": 23},
                            "mode": {"attributeType": "STRING", "valueAttribute": "ctf"},
                            "maps": {"attributeType": "STRING_LIST", "valueAttribute": ["a", "b"]},
                            "ping": {
                                "attributeType": "STRING_DOUBLE_MAP",
                                "valueAttribute": {"eu": 40, "us": 80.5},
                            },
                            "none": {"attributeType": "NONE"},
                        },
                    }
                ],
            },
            {"name": "blue", "players": [{"playerId": "p-2", "attributes": {}}]},
        ],
        "autoBackfillMode": "AUTOMATIC",
        "autoBackfillTicketId": "auto-1",
    }
)


def test_players_are_converted_to_attribute_values() -> None:
    """Each typed attribute becomes GameLift's S/N/SL/SDM form, with the player's team."""
    data = parse(SAMPLE)
    assert data.players == [
        {
            "PlayerId": "p-1",
            "Team": "red",
            "PlayerAttributes": {
                "skill": {"N": 23.0},
                "mode": {"S": "ctf"},
                "maps": {"SL": ["a", "b"]},
                "ping": {"SDM": {"eu": 40.0, "us": 80.5}},
            },
        },
        {"PlayerId": "p-2", "Team": "blue", "PlayerAttributes": {}},
    ]


def test_ticket_and_configuration_are_read() -> None:
    """The automatic ticket, mode, match ID and configuration name/ARN are exposed."""
    data = parse(SAMPLE)
    assert data.auto_backfill_ticket_id == "auto-1"
    assert data.auto_backfill_mode == "AUTOMATIC"
    assert data.match_id == "m-1"
    assert (data.configuration_arn, data.configuration_name) == (ARN, "ranked")


def test_nulls_as_written_by_manual_backfill_are_accepted() -> None:
    """autoBackfillMode/TicketId as JSON null (MANUAL configurations) parse as None."""
    data = parse(json.dumps({"teams": [], "autoBackfillMode": None, "autoBackfillTicketId": None}))
    assert data.auto_backfill_ticket_id is None
    assert data.players == []


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "{not json",
        "[]",
        json.dumps({"teams": {}}),
        json.dumps({"teams": [{"players": [{"attributes": {}}]}]}),
        json.dumps({"teams": [{"players": [{"playerId": "p", "attributes": {"a": 1}}]}]}),
        json.dumps(
            {
                "teams": [
                    {
                        "players": [
                            {
                                "playerId": "secret-p",
                                "attributes": {"a": {"attributeType": "BLOB", "valueAttribute": 1}},
                            }
                        ]
                    }
                ]
            }
        ),
    ],
)
def test_absent_or_malformed_data_gives_a_clear_error(raw: str | None) -> None:
    """Unusable data raises MatchmakerDataError on `players`, telling to pass them; no IDs."""
    with pytest.raises(MatchmakerDataError) as info:
        parse(raw)
    assert info.value.fields == ["players"]
    assert "pass `players` explicitly" in str(info.value)
    assert "secret-p" not in str(info.value)


def test_summary_never_raises() -> None:
    """Discovery's summary returns (None, None) for unreadable data instead of failing."""
    assert backfill_summary("{bad") == (None, None)
    assert backfill_summary(None) == (None, None)
    assert backfill_summary(SAMPLE) == ("auto-1", ARN)


def test_configuration_matching_by_name_or_arn() -> None:
    """A filter given by name or by ARN matches the MatchmakerData ARN."""
    assert configuration_name_of(ARN) == "ranked"
    assert same_configuration(ARN, "ranked")
    assert same_configuration(ARN, ARN)
    assert not same_configuration(ARN, "casual")
    assert not same_configuration(None, "ranked")
