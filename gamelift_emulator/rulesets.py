"""The FlexMatch rule language: parse a rule set body, reject what GameLift rejects.

Pure (no HTTP, no clock). :func:`parse_rule_set` turns a ``RuleSetBody`` into a
:class:`RuleSet` that :mod:`gamelift_emulator.matching` evaluates, or raises
:class:`RuleSetError` whose message names the offending property, as
CreateMatchmakingRuleSet and ValidateMatchmakingRuleSet answer an invalid body.

Sources: the rule set schema and property definitions
(https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/match-ruleset-schema.html,
https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/match-ruleset-property-definitions.html),
the rule types
(https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/match-rules-reference-ruletype.html)
and property expressions
(https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/match-rules-reference-property-expression.html).
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ATTRIBUTE_TYPES",
    "Attribute",
    "Expansion",
    "Expression",
    "Rule",
    "RuleSet",
    "RuleSetError",
    "Team",
    "parse_expression",
    "parse_rule_set",
]

ATTRIBUTE_TYPES = ("string", "number", "string_list", "string_number_map")
RULE_TYPES = ("absoluteSort", "batchDistance", "collection", "comparison", "distance", "latency")
LANGUAGE_VERSION = "1.0"
MAX_MATCH_PLAYERS = 200  # a large match (over 40 players) holds at most 200
FUNCTIONS = ("avg", "count", "flatten", "max", "median", "min", "set_intersection", "sum")
_TOP_LEVEL = (
    "algorithm",
    "expansions",
    "name",
    "playerAttributes",
    "rules",
    "ruleLanguageVersion",
    "teams",
)
_COMPARISONS = ("<", "<=", "=", "!=", ">", ">=")
_COLLECTION_OPS = ("intersection", "contains", "reference_intersection_count")
_AGGREGATIONS = ("avg", "min", "max")
_ALGORITHM = {
    "strategy": ("exhaustiveSearch", "balanced"),
    "batchingPreference": ("random", "sorted", "largestPopulation", "fastestRegion"),
    "expansionAgeSelection": ("newest", "oldest"),
    "backfillPriority": ("normal", "low", "high"),
}
# Properties each rule type accepts (name, type, description are common to all).
_RULE_PROPERTIES: dict[str, frozenset[str]] = {
    "comparison": frozenset({"measurements", "referenceValue", "operation", "partyAggregation"}),
    "distance": frozenset(
        {"measurements", "referenceValue", "maxDistance", "minDistance", "partyAggregation"}
    ),
    "collection": frozenset(
        {"measurements", "referenceValue", "operation", "minCount", "maxCount", "partyAggregation"}
    ),
    "latency": frozenset({"maxLatency", "maxDistance", "distanceReference", "partyAggregation"}),
    "batchDistance": frozenset({"batchAttribute", "maxDistance", "partyAggregation"}),
    "absoluteSort": frozenset({"sortDirection", "sortAttribute", "mapKey", "partyAggregation"}),
}


class RuleSetError(ValueError):
    """An invalid rule set body; the message says which property and why."""


@dataclass(frozen=True)
class Attribute:
    """A declared player attribute: its name, rule-language type and optional default."""

    name: str
    type: str
    default: Any = None


@dataclass(frozen=True)
class Team:
    """One team of a match (a ``quantity`` > 1 team is expanded into numbered copies)."""

    name: str
    base: str  # the name in the rule set (expressions may use it for every copy)
    min_players: int
    max_players: int


@dataclass(frozen=True)
class Expression:
    """A parsed property expression: a function applied to an inner one, a path, or a number.

    ``path`` is ``(team selector, attribute or None, map key or None)``: ``team`` is a
    team name or ``*``; no attribute means the players themselves (their IDs).
    """

    function: str | None = None
    argument: Expression | None = None
    path: tuple[str, str | None, str | None] | None = None
    number: float | None = None


@dataclass(frozen=True)
class Rule:
    """A rule: its name, type and properties (expressions already parsed)."""

    name: str
    type: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Expansion:
    """Relax ``rules[target].prop`` or ``teams[target].prop`` to each value after a wait."""

    kind: str  # "rules" or "teams"
    target: str
    prop: str
    steps: tuple[tuple[float, Any], ...]  # (waitTimeSeconds, value), by wait


@dataclass(frozen=True)
class RuleSet:
    """A valid rule set, ready for matching."""

    name: str | None
    attributes: tuple[Attribute, ...]
    teams: tuple[Team, ...]
    rules: tuple[Rule, ...]
    expansions: tuple[Expansion, ...]
    algorithm: Mapping[str, Any]
    # expansion steps due -> the rule set then (see expanded)
    _expanded: dict[int, RuleSet] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    @property
    def team_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.teams)

    @property
    def max_players(self) -> int:
        return sum(t.max_players for t in self.teams)

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def expanded(self, waited_seconds: float) -> RuleSet:
        """The rule set as it stands after ``waited_seconds``: each expansion's last step due.

        Built once per expansion step (a matching pass asks for every candidate it tries).
        """
        steps_due = bisect.bisect_right(self.expansion_times(), waited_seconds)
        if steps_due == 0:
            return self
        cached = self._expanded.get(steps_due)
        if cached is None:
            cached = self._expanded[steps_due] = self._build_expanded(waited_seconds)
        return cached

    def _build_expanded(self, waited_seconds: float) -> RuleSet:
        rule_props = {r.name: dict(r.properties) for r in self.rules}
        limits = {t.name: [t.min_players, t.max_players] for t in self.teams}
        for expansion in self.expansions:
            due = [value for wait, value in expansion.steps if wait <= waited_seconds]
            if not due:
                continue
            if expansion.kind == "rules":
                rule_props[expansion.target][expansion.prop] = due[-1]
                continue
            index = 0 if expansion.prop == "minPlayers" else 1
            for team in self.teams:
                if expansion.target in (team.name, team.base):
                    limits[team.name][index] = int(due[-1])
        teams = tuple(Team(t.name, t.base, *limits[t.name]) for t in self.teams)
        rules = tuple(Rule(r.name, r.type, rule_props[r.name]) for r in self.rules)
        return RuleSet(self.name, self.attributes, teams, rules, (), self.algorithm)

    def expansion_times(self) -> tuple[float, ...]:
        """Every wait after which an expansion step changes the rules, ascending."""
        return self._expansion_times

    @functools.cached_property
    def _expansion_times(self) -> tuple[float, ...]:
        return tuple(sorted({wait for e in self.expansions for wait, _ in e.steps}))


def _fail(message: str) -> RuleSetError:
    return RuleSetError(f"Invalid rule set: {message}")


def _number(value: Any, where: str, *, integer: bool = False, low: float | None = None) -> float:
    """A JSON number (or a numeric string, which the AWS examples use)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise _fail(f"{where} must be a number, got {value!r}.") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"{where} must be a number, got {json.dumps(value)}.")
    if integer and float(value) != int(value):
        raise _fail(f"{where} must be an integer, got {value}.")
    if low is not None and value < low:
        raise _fail(f"{where} must be at least {low:g}, got {value}.")
    return float(value)


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise _fail(f"{where} must be one of {', '.join(allowed)}; got {json.dumps(value)}.")
    return str(value)


def _list(doc: Mapping[str, Any], key: str) -> list[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(f"{key} must be a list.")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"{where} must be a JSON object.")
    return value


def _name(item: Mapping[str, Any], where: str) -> str:
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(f"every entry of {where} needs a non-empty name.")
    return name


def _default_matches(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return False
            return True
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string_list":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
        for k, v in value.items()
    )


def _attributes(doc: Mapping[str, Any]) -> tuple[Attribute, ...]:
    found: dict[str, Attribute] = {}
    for item in _list(doc, "playerAttributes"):
        item = _object(item, "playerAttributes")
        name = _name(item, "playerAttributes")
        if name in found:
            raise _fail(f"player attribute {name} is declared twice.")
        kind = item.get("type")
        if kind not in ATTRIBUTE_TYPES:
            raise _fail(
                f"player attribute {name} has unknown type {json.dumps(kind)}; "
                f"valid types: {', '.join(ATTRIBUTE_TYPES)}."
            )
        default = item.get("default")
        if default is not None and not _default_matches(kind, default):
            raise _fail(f"the default of player attribute {name} is not a {kind}.")
        if kind == "number" and default is not None:
            default = float(default)
        found[name] = Attribute(name, kind, default)
    return tuple(found.values())


def _teams(doc: Mapping[str, Any]) -> tuple[Team, ...]:
    raw = _list(doc, "teams")
    if not raw:
        raise _fail("teams is required and must define at least one team.")
    teams: list[Team] = []
    bases: set[str] = set()
    for item in raw:
        item = _object(item, "teams")
        name = _name(item, "teams")
        if name in bases:
            raise _fail(f"team {name} is defined twice.")
        bases.add(name)
        if "maxPlayers" not in item:
            raise _fail(f"team {name} needs maxPlayers.")
        high = int(_number(item["maxPlayers"], f"teams[{name}].maxPlayers", integer=True, low=1))
        low = int(
            _number(item.get("minPlayers", 0), f"teams[{name}].minPlayers", integer=True, low=0)
        )
        if low > high:
            raise _fail(f"team {name} has minPlayers {low} greater than maxPlayers {high}.")
        quantity = int(
            _number(item.get("quantity", 1), f"teams[{name}].quantity", integer=True, low=1)
        )
        names = [name] if quantity == 1 else [f"{name}_{i + 1}" for i in range(quantity)]
        teams.extend(Team(n, name, low, high) for n in names)
    total = sum(t.max_players for t in teams)
    if total > MAX_MATCH_PLAYERS:
        raise _fail(
            f"the teams hold up to {total} players; a match holds at most {MAX_MATCH_PLAYERS}."
        )
    return tuple(teams)


# ---------------------------------------------------------------- expressions

_TOKEN = re.compile(
    r"\s*(?:(?P<number>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[()\[\].*,]))"
)


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip() == "":
                break
            raise _fail(f"cannot read property expression {text!r} at {text[position:]!r}.")
        out.append(match.group(match.lastgroup or "punct"))
        position = match.end()
    return out


def parse_expression(
    text: str, rule_set_teams: tuple[Team, ...], attributes: tuple[Attribute, ...]
) -> Expression:
    """Parse a property expression such as ``avg(teams[*].players.attributes[skill])``.

    Raises RuleSetError for unknown functions, teams or attributes.
    """
    tokens = _tokens(text)
    team_names = {t.name for t in rule_set_teams} | {t.base for t in rule_set_teams}
    declared = {a.name for a in attributes}

    def expect(token: str) -> None:
        if not tokens or tokens[0] != token:
            raise _fail(f"property expression {text!r}: expected {token!r}.")
        tokens.pop(0)

    def bracket() -> str:
        expect("[")
        if not tokens:
            raise _fail(f"property expression {text!r} ends early.")
        value = tokens.pop(0)
        expect("]")
        return value

    def parse() -> Expression:
        if not tokens:
            raise _fail(f"property expression {text!r} is empty.")
        head = tokens.pop(0)
        if re.fullmatch(r"-?\d+(?:\.\d+)?", head):
            return Expression(number=float(head))
        if tokens and tokens[0] == "(":
            if head not in FUNCTIONS:
                raise _fail(
                    f"unknown function {head} in property expression {text!r}; "
                    f"known: {', '.join(FUNCTIONS)}."
                )
            tokens.pop(0)
            inner = parse()
            expect(")")
            return Expression(function=head, argument=inner)
        if head != "teams":
            raise _fail(f"property expression {text!r} must start with teams[...] or a function.")
        team = bracket()
        if team != "*" and team not in team_names:
            raise _fail(f"property expression {text!r} refers to undeclared team {team}.")
        expect(".")
        if not tokens or tokens.pop(0) != "players":
            raise _fail(f"property expression {text!r}: expected players after teams[{team}].")
        attribute: str | None = None
        key: str | None = None
        if tokens and tokens[0] == ".":
            tokens.pop(0)
            if not tokens or tokens.pop(0) != "attributes":
                raise _fail(f"property expression {text!r}: expected attributes[...].")
            attribute = bracket()
            if attribute not in declared:
                raise _fail(
                    f"property expression {text!r} refers to attribute {attribute}, "
                    "which playerAttributes does not declare."
                )
            if tokens and tokens[0] == "[":
                key = bracket()
        return Expression(path=(team, attribute, key))

    expression = parse()
    if tokens:
        raise _fail(f"property expression {text!r} has extra text {' '.join(tokens)!r}.")
    return expression


def _expressions(
    value: Any, where: str, teams: tuple[Team, ...], attributes: tuple[Attribute, ...]
) -> tuple[Expression, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _fail(f"{where} must not be empty.")
    out = []
    for item in items:
        if isinstance(item, int | float) and not isinstance(item, bool):
            out.append(Expression(number=float(item)))
        elif isinstance(item, str):
            out.append(parse_expression(item, teams, attributes))
        else:
            raise _fail(f"{where} must be property expressions or numbers.")
    return tuple(out)


# ---------------------------------------------------------------------- rules


def _declared(
    rule: str, prop: str, value: Any, attributes: tuple[Attribute, ...], kinds: tuple[str, ...]
) -> str:
    attribute = next((a for a in attributes if a.name == value), None)
    if attribute is None:
        raise _fail(f"rule {rule}: {prop} {json.dumps(value)} is not declared in playerAttributes.")
    if attribute.type not in kinds:
        raise _fail(f"rule {rule}: {prop} {value} must be of type {' or '.join(kinds)}.")
    return attribute.name


def _rule(item: Any, teams: tuple[Team, ...], attributes: tuple[Attribute, ...]) -> Rule:
    item = _object(item, "rules")
    name = _name(item, "rules")
    kind = item.get("type")
    if kind not in RULE_TYPES:
        raise _fail(
            f"rule {name} has unknown type {json.dumps(kind)}; "
            f"valid types: {', '.join(RULE_TYPES)}."
        )
    allowed = _RULE_PROPERTIES[kind] | {"name", "type", "description"}
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise _fail(f"rule {name} ({kind}) does not take {', '.join(unknown)}.")
    props: dict[str, Any] = {}
    if "partyAggregation" in item:
        props["partyAggregation"] = _choice(
            item["partyAggregation"], _AGGREGATIONS, f"rule {name}: partyAggregation"
        )
    where = f"rule {name}"
    if kind in ("comparison", "distance", "collection"):
        if "measurements" not in item:
            raise _fail(f"{where} ({kind}) needs measurements.")
        props["measurements"] = _expressions(
            item["measurements"], f"{where}: measurements", teams, attributes
        )
    if kind == "comparison":
        props["operation"] = _choice(item.get("operation"), _COMPARISONS, f"{where}: operation")
        if "referenceValue" in item:
            props["referenceValue"] = _reference(item["referenceValue"], where, teams, attributes)
        elif props["operation"] not in ("=", "!="):
            raise _fail(f"{where}: without referenceValue, operation must be = or !=.")
    elif kind == "distance":
        if "referenceValue" not in item:
            raise _fail(f"{where} (distance) needs referenceValue.")
        props["referenceValue"] = _reference(item["referenceValue"], where, teams, attributes)
        if "maxDistance" not in item and "minDistance" not in item:
            raise _fail(f"{where} (distance) needs maxDistance or minDistance.")
        for key in ("maxDistance", "minDistance"):
            if key in item:
                props[key] = _number(item[key], f"{where}: {key}", low=0)
    elif kind == "collection":
        props["operation"] = _choice(item.get("operation"), _COLLECTION_OPS, f"{where}: operation")
        if props["operation"] != "intersection":
            if "referenceValue" not in item:
                raise _fail(f"{where}: operation {props['operation']} needs referenceValue.")
            props["referenceValue"] = item["referenceValue"]
        if "minCount" not in item and "maxCount" not in item:
            raise _fail(f"{where} (collection) needs minCount or maxCount.")
        for key in ("minCount", "maxCount"):
            if key in item:
                props[key] = _number(item[key], f"{where}: {key}", integer=True, low=0)
    elif kind == "latency":
        if "maxLatency" not in item:
            raise _fail(f"{where} (latency) needs maxLatency.")
        props["maxLatency"] = _number(item["maxLatency"], f"{where}: maxLatency", low=0)
        if "maxDistance" in item:
            props["maxDistance"] = _number(item["maxDistance"], f"{where}: maxDistance", low=0)
    elif kind == "batchDistance":
        props["batchAttribute"] = _declared(
            name, "batchAttribute", item.get("batchAttribute"), attributes, ("string", "number")
        )
        if "maxDistance" in item:
            props["maxDistance"] = _number(item["maxDistance"], f"{where}: maxDistance", low=0)
    elif kind == "absoluteSort":
        props["sortDirection"] = _choice(
            item.get("sortDirection"), ("ascending", "descending"), f"{where}: sortDirection"
        )
        props["sortAttribute"] = _declared(
            name,
            "sortAttribute",
            item.get("sortAttribute"),
            attributes,
            ("number", "string_number_map"),
        )
        if "mapKey" in item:
            props["mapKey"] = _choice(item["mapKey"], ("minValue", "maxValue"), f"{where}: mapKey")
    return Rule(name, kind, props)


def _reference(
    value: Any, where: str, teams: tuple[Team, ...], attributes: tuple[Attribute, ...]
) -> Expression:
    if isinstance(value, str):
        try:
            return Expression(number=float(value))
        except ValueError:
            return parse_expression(value, teams, attributes)
    return Expression(number=_number(value, f"{where}: referenceValue"))


_TARGET = re.compile(r"^(?P<kind>rules|teams)\[(?P<name>[^\]]+)\]\.(?P<prop>[A-Za-z]+)$")


def _expansions(
    doc: Mapping[str, Any], rules: tuple[Rule, ...], teams: tuple[Team, ...]
) -> tuple[Expansion, ...]:
    out: list[Expansion] = []
    for item in _list(doc, "expansions"):
        item = _object(item, "expansions")
        target = item.get("target")
        match = _TARGET.match(target) if isinstance(target, str) else None
        if match is None:
            raise _fail(
                f"expansion target {json.dumps(target)} must look like rules[NAME].property "
                "or teams[NAME].property."
            )
        kind, name, prop = match["kind"], match["name"], match["prop"]
        if kind == "rules":
            rule = next((r for r in rules if r.name == name), None)
            if rule is None:
                raise _fail(f"expansion target {target} refers to undeclared rule {name}.")
            if prop not in _RULE_PROPERTIES[rule.type] or prop in ("measurements",):
                raise _fail(
                    f"expansion target {target}: rule {name} ({rule.type}) "
                    f"has no expandable {prop}."
                )
        else:
            if not any(name in (t.name, t.base) for t in teams):
                raise _fail(f"expansion target {target} refers to undeclared team {name}.")
            if prop not in ("minPlayers", "maxPlayers"):
                raise _fail(
                    f"expansion target {target}: a team expands minPlayers or maxPlayers only."
                )
        raw_steps = item.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise _fail(f"expansion {target} needs a non-empty list of steps.")
        steps: list[tuple[float, Any]] = []
        for step in raw_steps:
            step = _object(step, f"expansion {target} steps")
            wait = _number(
                step.get("waitTimeSeconds"), f"expansion {target}: waitTimeSeconds", low=0
            )
            if "value" not in step:
                raise _fail(f"expansion {target}: every step needs a value.")
            value = step["value"]
            if (
                isinstance(value, int | float | str)
                and not isinstance(value, bool)
                and prop != "operation"
            ):
                value = _number(value, f"expansion {target}: value")
            steps.append((wait, value))
        out.append(Expansion(kind, name, prop, tuple(sorted(steps, key=lambda s: s[0]))))
    return tuple(out)


def _algorithm(doc: Mapping[str, Any]) -> dict[str, Any]:
    raw = doc.get("algorithm")
    if raw is None:
        return {}
    raw = _object(raw, "algorithm")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _ALGORITHM:
            out[key] = _choice(value, _ALGORITHM[key], f"algorithm.{key}")
        elif key == "sortByAttributes":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _fail("algorithm.sortByAttributes must be a list of attribute names.")
            out[key] = list(value)
        else:
            raise _fail(f"algorithm does not take {key}.")
    return out


def parse_rule_set(body: str) -> RuleSet:
    """Parse and validate a ``RuleSetBody``; RuleSetError names what is wrong."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise RuleSetError(f"Invalid rule set: the body is not valid JSON: {exc}") from None
    doc = _object(doc, "the rule set body")
    unknown = sorted(set(doc) - set(_TOP_LEVEL))
    if unknown:
        raise _fail(f"unknown properties {', '.join(unknown)}; valid: {', '.join(_TOP_LEVEL)}.")
    if "ruleLanguageVersion" not in doc:
        raise _fail(f'ruleLanguageVersion is required; the only version is "{LANGUAGE_VERSION}".')
    if doc["ruleLanguageVersion"] != LANGUAGE_VERSION:
        raise _fail(
            f"unsupported ruleLanguageVersion {json.dumps(doc['ruleLanguageVersion'])}; "
            f'the only version is "{LANGUAGE_VERSION}".'
        )
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise _fail("name must be a string.")
    attributes = _attributes(doc)
    teams = _teams(doc)
    rules: list[Rule] = []
    for item in _list(doc, "rules"):
        rule = _rule(item, teams, attributes)
        if any(r.name == rule.name for r in rules):
            raise _fail(f"rule {rule.name} is defined twice.")
        rules.append(rule)
    algorithm = _algorithm(doc)
    for attribute in algorithm.get("sortByAttributes", []):
        if attribute not in {a.name for a in attributes}:
            raise _fail(f"algorithm.sortByAttributes names {attribute}, which is not declared.")
    expansions = _expansions(doc, tuple(rules), teams)
    return RuleSet(name, attributes, teams, tuple(rules), expansions, algorithm)
