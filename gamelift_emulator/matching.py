"""Form FlexMatch matches from waiting tickets: pure, deterministic for a given seed.

Given a :class:`~gamelift_emulator.rulesets.RuleSet`, the tickets waiting in SEARCHING and
the time, :func:`find_matches` proposes matches the way FlexMatch builds them
(https://docs.aws.amazon.com/gameliftservers/latest/flexmatchguide/match-client-start.html,
https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/match-backfill.html): the
oldest ticket anchors a match, other tickets join while the rules still hold, and the
match is proposed once every team has its ``minPlayers`` (teams are filled further, up
to ``maxPlayers``, while more tickets fit). A backfill ticket anchors a match around the
players already in its game session and needs at least one new ticket. Expansions relax
the rules by the wait of the anchor (``expansionAgeSelection`` "oldest", the default
here) or of the newest ticket ("newest").

Simplified: a ticket's players always join the same team; the search is greedy (one
pass per anchor, at most :data:`ANCHOR_LIMIT` anchors and :data:`POOL_LIMIT` candidates
each per pass), not exhaustive.
"""

from __future__ import annotations

import operator
import random
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .rulesets import Expression, Rule, RuleSet, Team

__all__ = [
    "ANCHOR_LIMIT",
    "POOL_LIMIT",
    "Backfill",
    "Candidate",
    "Match",
    "MatchPlayer",
    "find_matches",
    "player_from_request",
]

POOL_LIMIT = 200  # candidates tried per anchor: FlexMatch also works in bounded batches
ANCHOR_LIMIT = 32  # oldest tickets that anchor a match per pass: a pass costs O(32 x 200)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
}
_WIRE_KEYS = ("S", "N", "SL", "SDM")


@dataclass(frozen=True)
class MatchPlayer:
    """A player as the rules see it: attribute values (defaults applied) and latencies."""

    player_id: str
    attributes: Mapping[str, Any]
    latencies: Mapping[str, float] = field(default_factory=dict)
    team: str | None = None  # fixed team: players already in a backfilled session


@dataclass(frozen=True)
class Candidate:
    """A ticket that may join a match."""

    ticket_id: str
    start_time: float
    players: tuple[MatchPlayer, ...]


@dataclass(frozen=True)
class Backfill:
    """A backfill ticket: the players already in its session (with teams) and the room left."""

    ticket: Candidate
    existing: tuple[MatchPlayer, ...]
    room: int | None = None  # new players the game session can still take


@dataclass(frozen=True)
class Match:
    """A proposed match: the new tickets and where each of their players goes."""

    ticket_ids: tuple[str, ...]
    teams: Mapping[str, str]  # player ID -> team, for the new players
    backfill_ticket_id: str | None = None


def player_from_request(player: Mapping[str, Any], rule_set: RuleSet) -> MatchPlayer:
    """A ticket's ``Players`` entry as the rules see it; missing attributes take defaults."""
    given = player.get("PlayerAttributes") or {}
    values: dict[str, Any] = {}
    for attribute in rule_set.attributes:
        raw = given.get(attribute.name)
        value = None
        if isinstance(raw, Mapping):
            value = next((raw[k] for k in _WIRE_KEYS if k in raw), None)
        if value is None:
            value = attribute.default
        if attribute.type == "number" and value is not None:
            value = float(value)
        values[attribute.name] = value
    latencies = {
        str(k): float(v)
        for k, v in (player.get("LatencyInMs") or {}).items()
        if isinstance(v, int | float)
    }
    team = player.get("Team")
    return MatchPlayer(str(player.get("PlayerId")), values, latencies, team or None)


# ------------------------------------------------------------------- evaluation


class _Lineup:
    """Players by team, in team order: what a rule measures."""

    def __init__(self, teams: Sequence[Team]) -> None:
        self.teams = list(teams)
        self.players: dict[str, list[MatchPlayer]] = {t.name: [] for t in teams}

    def copy(self) -> _Lineup:
        other = _Lineup(self.teams)
        other.players = {k: list(v) for k, v in self.players.items()}
        return other

    def all_players(self) -> list[MatchPlayer]:
        return [p for t in self.teams for p in self.players[t.name]]

    def full(self, teams: Sequence[Team]) -> bool:
        return all(len(self.players[t.name]) >= t.max_players for t in teams)

    def complete(self, teams: Sequence[Team]) -> bool:
        return all(len(self.players[t.name]) >= t.min_players for t in teams)

    def place(self, party: Sequence[MatchPlayer], teams: Sequence[Team]) -> _Lineup | None:
        """A lineup with the party on the emptiest team with room for all of it, or None."""
        fixed = {p.team for p in party if p.team}
        options = [t for t in teams if not fixed or t.name in fixed]
        options = [t for t in options if len(self.players[t.name]) + len(party) <= t.max_players]
        if not options:
            return None
        team = min(options, key=lambda t: (len(self.players[t.name]), teams.index(t)))
        out = self.copy()
        out.players[team.name].extend(party)
        return out


def _path(lineup: _Lineup, path: tuple[str, str | None, str | None]) -> Any:
    team, attribute, key = path

    def value(p: MatchPlayer) -> Any:
        if attribute is None:
            return p.player_id
        v = p.attributes.get(attribute)
        if key is not None:
            return v.get(key) if isinstance(v, Mapping) else None
        return v

    if team == "*":
        return [[value(p) for p in lineup.players[t.name]] for t in lineup.teams]
    chosen = [t for t in lineup.teams if team in (t.name, t.base)]
    return [value(p) for t in chosen for p in lineup.players[t.name]]


def _nested(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, list) for x in v)


def _apply(function: str, value: Any) -> Any:
    if function == "flatten":
        return [x for part in value for x in part] if _nested(value) else value
    if function == "set_intersection":
        if _nested(value) and all(_nested(x) or x == [] for x in value):
            return [_apply(function, x) for x in value]
        sets = [set(x) for x in value if isinstance(x, list)]
        return sorted(set.intersection(*sets)) if sets else []
    if _nested(value):
        return [_apply(function, x) for x in value]
    if not isinstance(value, list):
        return value
    if function == "count":
        return float(len(value))
    numbers = [float(x) for x in value if isinstance(x, int | float)]
    if len(numbers) != len(value):
        return None  # a missing or non-numeric value fails whatever measures it
    if not numbers:
        return None
    reducers: dict[str, Callable[[list[float]], float]] = {
        "avg": statistics.fmean,
        "min": min,
        "max": max,
        "sum": sum,
        "median": statistics.median,
    }
    return reducers[function](numbers)


def _evaluate(expression: Expression | float, lineup: _Lineup) -> Any:
    if not isinstance(expression, Expression):
        return float(expression)  # an expansion's value replaced the expression
    if expression.number is not None:
        return expression.number
    if expression.path is not None:
        return _path(lineup, expression.path)
    assert expression.function is not None
    assert expression.argument is not None
    return _apply(expression.function, _evaluate(expression.argument, lineup))


def _scalars(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [x for part in value for x in _scalars(part)]
    return [value]


def _reference(rule: Rule, lineup: _Lineup) -> float | None:
    values = [v for v in _scalars(_evaluate(rule.properties["referenceValue"], lineup))]
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    return statistics.fmean(numbers) if numbers and len(numbers) == len(values) else None


def _measured(rule: Rule, lineup: _Lineup) -> list[Any]:
    return [x for m in rule.properties["measurements"] for x in _scalars(_evaluate(m, lineup))]


def _comparison(rule: Rule, lineup: _Lineup) -> bool:
    values = _measured(rule, lineup)
    op = rule.properties["operation"]
    if "referenceValue" not in rule.properties:
        hashable = [repr(v) for v in values]
        return len(set(hashable)) <= 1 if op == "=" else len(set(hashable)) == len(hashable)
    reference = _reference(rule, lineup)
    if reference is None or any(not isinstance(v, int | float) for v in values):
        return False
    return all(_COMPARE[op](float(v), reference) for v in values)


def _distance(rule: Rule, lineup: _Lineup) -> bool:
    values = _measured(rule, lineup)
    reference = _reference(rule, lineup)
    if reference is None or any(not isinstance(v, int | float) for v in values):
        return False
    high = rule.properties.get("maxDistance")
    low = rule.properties.get("minDistance")
    for v in values:
        gap = abs(float(v) - reference)
        if (high is not None and gap > float(high)) or (low is not None and gap < float(low)):
            return False
    return True


def _collections(value: Any) -> list[list[Any]]:
    if isinstance(value, list) and value and all(not isinstance(x, list) for x in value):
        return [value]  # one collection (e.g. a set_intersection result)
    if isinstance(value, list):
        return [c for part in value for c in _collections(part)]
    return []


def _collection(rule: Rule, lineup: _Lineup) -> bool:
    collections = [
        c for m in rule.properties["measurements"] for c in _collections(_evaluate(m, lineup))
    ]
    op = rule.properties["operation"]
    low = rule.properties.get("minCount")
    high = rule.properties.get("maxCount")

    def within(n: int) -> bool:
        return (low is None or n >= low) and (high is None or n <= high)

    if op == "intersection":
        sets = [set(c) for c in collections]
        return within(len(set.intersection(*sets)) if sets else 0)
    reference = rule.properties["referenceValue"]
    if op == "contains":
        return within(sum(1 for c in collections if reference in c))
    wanted = set(reference if isinstance(reference, list) else [reference])
    return all(within(len(wanted & set(c))) for c in collections)


def _latency(rule: Rule, lineup: _Lineup) -> bool:
    reporting = [p.latencies for p in lineup.all_players() if p.latencies]
    if not reporting:
        return True  # no latency data: nothing to hold against (see docs/emulator.md)
    limit = float(rule.properties["maxLatency"])
    regions = set.intersection(*(set(r) for r in reporting))
    return any(all(r[region] <= limit for r in reporting) for region in regions)


def _batch_distance(rule: Rule, lineup: _Lineup, parties: Sequence[Sequence[MatchPlayer]]) -> bool:
    name = rule.properties["batchAttribute"]
    aggregate = rule.properties.get("partyAggregation", "avg")
    values: list[Any] = []
    for party in parties:
        raw = [p.attributes.get(name) for p in party]
        if any(v is None for v in raw):
            return False
        numbers = [float(v) for v in raw if isinstance(v, int | float)]
        if len(numbers) == len(raw):
            values.append(_apply(aggregate, numbers))
        else:
            values.extend(raw)
    if not values:
        return True
    if all(isinstance(v, float) for v in values):
        spread = float(max(values)) - float(min(values))
        return spread <= float(rule.properties.get("maxDistance", 0.0))
    return len({repr(v) for v in values}) == 1


_MONOTONE = frozenset({"batchDistance", "latency"})


def _per_player(rule: Rule) -> bool:
    """Rules that hold for a match iff they hold for every part of it (checked early)."""
    if rule.type in _MONOTONE:
        return True
    if rule.type not in ("comparison", "distance") or "referenceValue" not in rule.properties:
        return False
    reference = rule.properties["referenceValue"]
    plain = all(_each_player(m) for m in rule.properties["measurements"])
    fixed = not isinstance(reference, Expression) or reference.number is not None
    return plain and fixed


def _each_player(measurement: Any) -> bool:
    """A measurement that yields one value per player: a path, or ``flatten`` of one."""
    if not isinstance(measurement, Expression):
        return False
    if measurement.function == "flatten" and measurement.argument is not None:
        measurement = measurement.argument
    return measurement.path is not None


def _passes(rule: Rule, lineup: _Lineup, parties: Sequence[Sequence[MatchPlayer]]) -> bool:
    if rule.type == "comparison":
        return _comparison(rule, lineup)
    if rule.type == "distance":
        return _distance(rule, lineup)
    if rule.type == "collection":
        return _collection(rule, lineup)
    if rule.type == "latency":
        return _latency(rule, lineup)
    if rule.type == "batchDistance":
        return _batch_distance(rule, lineup, parties)
    return True  # absoluteSort orders candidates; it never rejects a match


# --------------------------------------------------------------------- search


@dataclass
class _Attempt:
    anchor_start: float
    lineup: _Lineup
    parties: list[Sequence[MatchPlayer]]
    tickets: list[Candidate]
    newest_start: float


def _rules_at(rule_set: RuleSet, attempt: _Attempt, now: float) -> RuleSet:
    newest = rule_set.algorithm.get("expansionAgeSelection") == "newest"
    since = attempt.newest_start if newest else attempt.anchor_start
    return rule_set.expanded(max(0.0, now - since))


def _holds(rules: RuleSet, attempt: _Attempt, *, complete: bool) -> bool:
    return all(
        _passes(rule, attempt.lineup, attempt.parties)
        for rule in rules.rules
        if complete or _per_player(rule)
    )


def _sort_key(rule_set: RuleSet) -> Callable[[Candidate], tuple[Any, ...]]:
    sort = next((r for r in rule_set.rules if r.type == "absoluteSort"), None)
    if sort is None:  # oldest first (a pass sorts every waiting ticket: keep it in C)
        return operator.attrgetter("start_time", "ticket_id")

    def key(c: Candidate) -> tuple[Any, ...]:
        assert sort is not None
        values = []
        for p in c.players:
            v = p.attributes.get(sort.properties["sortAttribute"])
            if isinstance(v, Mapping):
                numbers = [float(x) for x in v.values()]
                pick = max if sort.properties.get("mapKey") == "maxValue" else min
                v = pick(numbers) if numbers else None
            values.append(float(v) if isinstance(v, int | float) else 0.0)
        score = statistics.fmean(values) if values else 0.0
        if sort.properties["sortDirection"] == "descending":
            score = -score
        return (score, c.start_time, c.ticket_id)

    return key


def _grow(
    rule_set: RuleSet,
    attempt: _Attempt,
    pool: Iterable[Candidate],
    now: float,
    *,
    needs_new: bool,
    room: int | None = None,
) -> _Attempt | None:
    """Add candidates while the rules hold (and ``room`` new players fit); the best
    complete attempt, or None."""
    best: _Attempt | None = None
    rules = _rules_at(rule_set, attempt, now)
    if not _holds(rules, attempt, complete=False):
        return None
    if (
        attempt.lineup.complete(rules.teams)
        and not needs_new
        and _holds(rules, attempt, complete=True)
    ):
        best = attempt
    for tried, candidate in enumerate(pool):
        if tried >= POOL_LIMIT:
            break
        added = sum(len(c.players) for c in attempt.tickets) + len(candidate.players)
        if room is not None and added > room:
            continue
        lineup = attempt.lineup.place(candidate.players, rules.teams)
        if lineup is None:
            continue
        trial = _Attempt(
            attempt.anchor_start,
            lineup,
            [*attempt.parties, candidate.players],
            [*attempt.tickets, candidate],
            max(attempt.newest_start, candidate.start_time),
        )
        trial_rules = _rules_at(rule_set, trial, now)
        if not _holds(trial_rules, trial, complete=False):
            continue
        if trial.lineup.complete(trial_rules.teams):
            if not _holds(trial_rules, trial, complete=True):
                continue
            best = trial
        attempt, rules = trial, trial_rules
        if attempt.lineup.full(rules.teams):
            break
    return best


def _match(attempt: _Attempt, new_from: int, backfill_ticket_id: str | None) -> Match:
    tickets = attempt.tickets[new_from:]
    new_ids = {p.player_id for c in tickets for p in c.players}
    teams = {
        p.player_id: name
        for name, players in attempt.lineup.players.items()
        for p in players
        if p.player_id in new_ids
    }
    return Match(tuple(c.ticket_id for c in tickets), teams, backfill_ticket_id)


def _at_least(wanted: int, counts: Iterable[int]) -> bool:
    """Whether ``counts`` add up to ``wanted`` (stops counting once they do)."""
    total = 0
    for count in counts:
        total += count
        if total >= wanted:
            return True
    return total >= wanted


def find_matches(
    rule_set: RuleSet,
    waiting: Sequence[Candidate],
    now: float,
    rng: random.Random,
    backfills: Sequence[Backfill] = (),
) -> list[Match]:
    """Every match the rules allow now; each waiting ticket joins at most one.

    ``backfills`` are tried first, oldest first. Deterministic for a given ``rng`` state.
    """
    key = _sort_key(rule_set)
    pool = sorted(waiting, key=key)
    if rule_set.algorithm.get("batchingPreference") == "random":
        rng.shuffle(pool)
        pool.sort(key=lambda c: c.start_time)  # the anchor stays the oldest ticket
    used: set[str] = set()
    matches: list[Match] = []
    fewest = min(
        sum(t.min_players for t in rule_set.expanded(w).teams)
        for w in (0.0, *rule_set.expansion_times())
    )
    for backfill in sorted(backfills, key=lambda b: (b.ticket.start_time, b.ticket.ticket_id)):
        ticket, existing = backfill.ticket, backfill.existing
        lineup = _Lineup(rule_set.teams)
        for player in existing:
            team = player.team if player.team in lineup.players else rule_set.teams[0].name
            lineup.players[team].append(player)
        start = _Attempt(ticket.start_time, lineup, [tuple(existing)], [], ticket.start_time)
        found = _grow(
            rule_set,
            start,
            (c for c in pool if c.ticket_id not in used),
            now,
            needs_new=True,
            room=backfill.room,
        )
        if found is not None and found.tickets:
            matches.append(_match(found, 0, ticket.ticket_id))
            used.update(c.ticket_id for c in found.tickets)
    if not _at_least(fewest, (len(c.players) for c in pool if c.ticket_id not in used)):
        return matches  # not enough players for any match: skip the search
    anchors = 0
    for anchor in pool:
        if anchor.ticket_id in used:
            continue
        anchors += 1
        if anchors > ANCHOR_LIMIT:
            break
        placed = _Lineup(rule_set.teams).place(anchor.players, rule_set.teams)
        if placed is None:
            continue
        start = _Attempt(anchor.start_time, placed, [anchor.players], [anchor], anchor.start_time)
        rest = (c for c in pool if c.ticket_id not in used and c.ticket_id != anchor.ticket_id)
        found = _grow(rule_set, start, rest, now, needs_new=False)
        if found is not None:
            matches.append(_match(found, 0, None))
            used.update(c.ticket_id for c in found.tickets)
    return matches
