"""The matcher's cost stays bounded with thousands of waiting tickets, rules unchanged."""

from __future__ import annotations

import json
import random

import pytest

from gamelift_emulator import matching
from gamelift_emulator.matching import Candidate, find_matches, player_from_request
from gamelift_emulator.rulesets import RuleSet, parse_rule_set
from testkit.seeding import RULE_SET_BODY

SKILL_FLOOR = {
    "name": "SkillFloor",
    "type": "comparison",
    "measurements": ["flatten(teams[*].players.attributes[skill])"],
    "referenceValue": 1000,
    "operation": ">=",
}


def _rules_with_floor() -> RuleSet:
    body = json.loads(RULE_SET_BODY)  # 2 to 4 a side, fair skill, latency
    body["rules"].append(SKILL_FLOOR)
    return parse_rule_set(json.dumps(body))


def _tickets(rules: RuleSet, skills: list[float]) -> list[Candidate]:
    return [
        Candidate(
            f"t{i:05d}",
            1000.0 + i / 1000,
            (
                player_from_request(
                    {"PlayerId": f"p{i}", "PlayerAttributes": {"skill": {"N": skill}}}, rules
                ),
            ),
        )
        for i, skill in enumerate(skills)
    ]


def test_hopeless_tickets_cost_one_check_per_anchor(monkeypatch: pytest.MonkeyPatch) -> None:
    """5,000 players under a flatten() skill floor: each anchor is refused at once, no match."""
    rules = _rules_with_floor()
    checked: list[str] = []
    passes = matching._passes

    def counting(rule, lineup, parties):  # type: ignore[no-untyped-def]
        checked.append(rule.name)
        return passes(rule, lineup, parties)

    monkeypatch.setattr(matching, "_passes", counting)
    found = find_matches(rules, _tickets(rules, [10.0] * 5000), 1010.0, random.Random(0))
    assert found == []
    assert len(checked) <= matching.ANCHOR_LIMIT * len(rules.rules)


def test_a_flatten_floor_still_lets_players_above_it_match() -> None:
    """Four players all above the floor form a 2v2 match; one below it is left out."""
    rules = _rules_with_floor()
    tickets = _tickets(rules, [1200.0, 10.0, 1200.0, 1200.0, 1200.0])
    (match,) = find_matches(rules, tickets, 1010.0, random.Random(0))
    assert sorted(match.ticket_ids) == ["t00000", "t00002", "t00003", "t00004"]


def test_expanded_rules_are_built_once_per_step() -> None:
    """Waits within one expansion step share one rule set; the next step relaxes the rule."""
    rules = parse_rule_set(RULE_SET_BODY)  # FairTeamSkill: 10, then 25 at 10 s, 50 at 30 s
    assert rules.expanded(5.0) is rules
    assert rules.expanded(12.0) is rules.expanded(29.0)
    distance = {r.name: r.properties.get("maxDistance") for r in rules.expanded(31.0).rules}
    assert distance["FairTeamSkill"] == 50
    assert rules.expanded(12.0) is not rules.expanded(31.0)
