"""Players of emulated matches: what a rule set asks for, and its two wire forms.

GameLift describes the same player twice: in a ticket's ``Players`` (``PlayerAttributes``
as ``{"S"|"N"|"SL"|"SDM": value}``) and in a game session's ``MatchmakerData`` JSON
(``{"attributeType": "STRING"|..., "valueAttribute": value}`` under ``teams``). Seeded
sessions need both, consistent with the configuration's rule set, so callers never have
to invent player data to drain backfill.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from .rulesets import RuleSet
from .rulesets import parse_rule_set as parse_rules

__all__ = [
    "Player",
    "RuleSetShape",
    "generate_players",
    "matchmaker_data",
    "parse_rule_set",
    "shape_of",
    "ticket_player",
]

# rule-set attribute type -> (MatchmakerData attributeType, ticket AttributeValue key)
_TYPES: dict[str, tuple[str, str]] = {
    "string": ("STRING", "S"),
    "number": ("DOUBLE", "N"),
    "string_list": ("STRING_LIST", "SL"),
    "string_number_map": ("STRING_DOUBLE_MAP", "SDM"),
}


@dataclass(frozen=True)
class RuleSetShape:
    """The parts of a rule set that shape players: team names and attribute types."""

    teams: tuple[str, ...]
    attributes: tuple[tuple[str, str, Any], ...]  # (name, rule-set type, default or None)


@dataclass(frozen=True)
class Player:
    """One matched player: ID, team, and typed attribute values keyed by name."""

    player_id: str
    team: str
    attributes: tuple[tuple[str, str, Any], ...]  # (name, rule-set type, value)


def shape_of(rule_set: RuleSet) -> RuleSetShape:
    """The parts of a parsed rule set that shape generated players."""
    return RuleSetShape(
        teams=rule_set.team_names,
        attributes=tuple((a.name, a.type, a.default) for a in rule_set.attributes),
    )


def parse_rule_set(body: str) -> RuleSetShape:
    """Read teams and player attributes; raise ValueError (RuleSetError) for a bad body."""
    return shape_of(parse_rules(body))


def _value(kind: str, default: Any, index: int) -> Any:
    """The rule set's default, or a plausible value of the right type."""
    if default is not None:
        return float(default) if kind == "number" else default
    if kind == "string":
        return "default"
    if kind == "number":
        return float(10 + index % 10)
    if kind == "string_list":
        return ["default"]
    return {"default": 1.0}


def generate_players(shape: RuleSetShape, count: int) -> list[Player]:
    """``count`` players with fresh IDs, dealt round-robin so teams stay even."""
    return [
        Player(
            player_id=f"player-{uuid.uuid4().hex[:16]}",
            team=shape.teams[i % len(shape.teams)],
            attributes=tuple((n, k, _value(k, d, i)) for n, k, d in shape.attributes),
        )
        for i in range(count)
    ]


def ticket_player(player: Player) -> dict[str, Any]:
    """The player as a ticket's ``Players`` entry (what StartMatchBackfill takes)."""
    return {
        "PlayerId": player.player_id,
        "PlayerAttributes": {n: {_TYPES[k][1]: v} for n, k, v in player.attributes},
        "Team": player.team,
    }


def matchmaker_data(
    *,
    match_id: str,
    configuration_arn: str,
    teams: tuple[str, ...],
    players: list[Player],
    backfill_mode: str,
    auto_backfill_ticket_id: str | None,
) -> str:
    """The game session's ``MatchmakerData`` JSON string, as GameLift writes it."""
    by_team: dict[str, list[dict[str, Any]]] = {name: [] for name in teams}
    for p in players:
        by_team.setdefault(p.team, []).append(
            {
                "playerId": p.player_id,
                "attributes": {
                    n: {"attributeType": _TYPES[k][0], "valueAttribute": v}
                    for n, k, v in p.attributes
                },
            }
        )
    return json.dumps(
        {
            "matchId": match_id,
            "matchmakingConfigurationArn": configuration_arn,
            "teams": [{"name": name, "players": ps} for name, ps in by_team.items()],
            # Live payloads of MANUAL configurations carry null here, not "MANUAL".
            "autoBackfillMode": backfill_mode if backfill_mode == "AUTOMATIC" else None,
            "autoBackfillTicketId": auto_backfill_ticket_id,
        },
        separators=(",", ":"),
    )
