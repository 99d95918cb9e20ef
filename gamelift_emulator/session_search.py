"""SearchGameSessions' filter and sort expressions, as the GameLift API reference defines them.

https://docs.aws.amazon.com/gamelift/latest/apireference/API_SearchGameSessions.html

* Operands: ``gameSessionName``, ``gameSessionId``, ``gameSessionProperties.<key>``,
  ``maximumSessions``, ``creationTimeMillis``, ``playerSessionCount``,
  ``hasAvailablePlayerSessions``.
* Comparators ``=``, ``<>``, ``<``, ``>``, ``<=``, ``>=``; strings in single quotes (``\\'``
  escapes a quote, case-sensitive), numbers, ``true``/``false``; booleans and strings
  only with ``=`` and ``<>``.
* ``AND``, ``OR``, ``NOT`` and parentheses; precedence comparisons, parentheses, NOT,
  AND, OR.
* Sort: ``<operand> ASC|DESC``; sessions without the operand come last.

Bad expressions raise InvalidRequestException naming the position and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .exceptions import InvalidRequestException

__all__ = ["Filter", "parse_filter", "parse_sort", "search_attributes"]

Attributes = Mapping[str, Any]
Filter = Callable[[Attributes], bool]
_OPERANDS = {
    "gameSessionName": "string",
    "gameSessionId": "string",
    "maximumSessions": "number",
    "creationTimeMillis": "number",
    "playerSessionCount": "number",
    "hasAvailablePlayerSessions": "boolean",
}
_PROPERTY_PREFIX = "gameSessionProperties."
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:\\.|[^'\\])*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<op><>|<=|>=|=|<|>)|(?P<paren>[()])|(?P<word>[A-Za-z_][A-Za-z0-9_.\-]*))"
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def search_attributes(
    *,
    name: str | None,
    arn: str,
    properties: list[dict[str, str]],
    maximum: int,
    created: float,
    players: int,
) -> dict[str, Any]:
    """A game session's searchable attributes, keyed by operand."""
    out: dict[str, Any] = {
        "gameSessionId": arn,
        "maximumSessions": maximum,
        "creationTimeMillis": int(created * 1000),
        "playerSessionCount": players,
        "hasAvailablePlayerSessions": players < maximum,
    }
    if name is not None:
        out["gameSessionName"] = name
    for prop in properties:
        out[_PROPERTY_PREFIX + prop["Key"]] = prop["Value"]
    return out


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _error(text, position, "an operand, a value, a comparator or a parenthesis")
        kind = match.lastgroup or ""
        start = match.start(kind)
        tokens.append(_Token(kind, match.group(kind), start))
        position = match.end()
    return tokens


def _error(text: str, position: int, expected: str) -> InvalidRequestException:
    return InvalidRequestException(
        f"Invalid expression {text!r} at position {position}: expected {expected}."
    )


class _Parser:
    """Recursive descent: or := and (OR and)*; and := not (AND not)*; not := NOT not | atom."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def parse(self) -> Filter:
        result = self._or()
        if self.index < len(self.tokens):
            raise _error(self.text, self.tokens[self.index].position, "AND, OR or the end")
        return result

    def _peek_word(self, word: str) -> bool:
        if self.index >= len(self.tokens):
            return False
        token = self.tokens[self.index]
        return token.kind == "word" and token.text.upper() == word

    def _next(self, expected: str) -> _Token:
        if self.index >= len(self.tokens):
            raise _error(self.text, len(self.text), expected)
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _or(self) -> Filter:
        parts = [self._and()]
        while self._peek_word("OR"):
            self.index += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else lambda s: any(p(s) for p in parts)

    def _and(self) -> Filter:
        parts = [self._not()]
        while self._peek_word("AND"):
            self.index += 1
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else lambda s: all(p(s) for p in parts)

    def _not(self) -> Filter:
        if self._peek_word("NOT"):
            self.index += 1
            inner = self._not()
            return lambda s: not inner(s)
        return self._atom()

    def _atom(self) -> Filter:
        token = self._next("an operand, NOT or '('")
        if token.kind == "paren" and token.text == "(":
            inner = self._or()
            close = self._next("')'")
            if close.text != ")":
                raise _error(self.text, close.position, "')'")
            return inner
        if token.kind != "word":
            raise _error(self.text, token.position, "an operand")
        operand, kind = _operand(self.text, token)
        comparator = self._next("a comparator")
        if comparator.kind != "op":
            raise _error(self.text, comparator.position, "a comparator (=, <>, <, >, <=, >=)")
        value_token = self._next("a value")
        value = _value(self.text, value_token, kind)
        if kind != "number" and comparator.text not in ("=", "<>"):
            raise _error(self.text, comparator.position, f"= or <> for the {kind} {operand}")
        return _comparison(operand, comparator.text, value)


def _operand(text: str, token: _Token) -> tuple[str, str]:
    if token.text in _OPERANDS:
        return token.text, _OPERANDS[token.text]
    if token.text.startswith(_PROPERTY_PREFIX) and len(token.text) > len(_PROPERTY_PREFIX):
        return token.text, "string"
    valid = ", ".join([*_OPERANDS, _PROPERTY_PREFIX + "<key>"])
    raise _error(text, token.position, f"an operand ({valid})")


def _value(text: str, token: _Token, kind: str) -> Any:
    if kind == "string" and token.kind == "string":
        return re.sub(r"\\(.)", r"\1", token.text[1:-1])
    if kind == "number" and token.kind == "number":
        return float(token.text)
    if kind == "boolean" and token.kind == "word" and token.text.lower() in ("true", "false"):
        return token.text.lower() == "true"
    shown = {"string": "a quoted string", "number": "a number", "boolean": "true or false"}
    raise _error(text, token.position, shown[kind])


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: bool(a == b),
    "<>": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    ">": lambda a, b: bool(a > b),
    "<=": lambda a, b: bool(a <= b),
    ">=": lambda a, b: bool(a >= b),
}


def _comparison(operand: str, comparator: str, value: Any) -> Filter:
    compare = _COMPARE[comparator]

    def test(attributes: Attributes) -> bool:
        actual = attributes.get(operand)
        if actual is None:
            return comparator == "<>"
        return compare(actual, value)

    return test


def parse_filter(text: str) -> Filter:
    """The filter ``text`` describes; InvalidRequestException for a bad expression."""
    return _Parser(text).parse()


def parse_sort(text: str) -> Callable[[list[Attributes]], list[Attributes]]:
    """A function sorting attribute dicts by ``text`` (``<operand> ASC|DESC``)."""
    parts = text.split()
    if len(parts) != 2 or parts[1].upper() not in ("ASC", "DESC"):
        raise InvalidRequestException(
            f"Invalid sort expression {text!r}: expected '<operand> ASC' or '<operand> DESC'."
        )
    operand, _ = _operand(text, _Token("word", parts[0], 0))
    descending = parts[1].upper() == "DESC"

    def sort(items: list[Attributes]) -> list[Attributes]:
        present = [i for i in items if i.get(operand) is not None]
        missing = [i for i in items if i.get(operand) is None]
        present.sort(key=lambda i: i[operand], reverse=descending)
        return present + missing

    return sort
