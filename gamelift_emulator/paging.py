"""Pages of Describe*/List* answers: opaque NextTokens that survive changes between pages."""

from __future__ import annotations

import base64
import binascii
import functools
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .exceptions import InvalidRequestException

__all__ = ["DEFAULT_PAGE_SIZE", "Listing", "Pages", "listing", "paged", "paginate"]

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 10


def _encode_token(kind: str, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{seq}".encode()).decode()


def _decode_token(kind: str, token: str) -> int:
    """The creation sequence a token points after; InvalidRequest for a foreign token."""
    try:
        got_kind, _, seq = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if got_kind == kind:
            return int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidRequestException("Invalid NextToken.")


def paginate(
    kind: str,
    seqs: Sequence[int],
    fetch: Callable[[int], T | None],
    limit: int,
    token: str | None,
) -> tuple[list[T], str | None]:
    """A page of items in creation order; the token names the last item's sequence.

    Positions are sequences, not indexes, so items added or dropped between pages never
    shift what the next page returns.
    """
    start = bisect_right(seqs, _decode_token(kind, token)) if token else 0
    page: list[T] = []
    last = 0
    for index in range(start, len(seqs)):  # no slice: a page costs O(page), not O(all)
        seq = seqs[index]
        item = fetch(seq)
        if item is None:
            continue
        if len(page) == limit:
            return page, _encode_token(kind, last)
        page.append(item)
        last = seq
    return page, None


def listing(key: str, page: list[Any], token: str | None) -> dict[str, Any]:
    """A Describe* answer: the page under ``key``, and NextToken while more remain."""
    out: dict[str, Any] = {key: page}
    if token:
        out["NextToken"] = token
    return out


@dataclass(frozen=True)
class Pages:
    """How one List*/Describe* operation pages (moto's ``@paginate`` model is the idea):
    the answer's list member, the token's kind, the default and largest page."""

    key: str
    kind: str
    default: int = DEFAULT_PAGE_SIZE
    maximum: int | None = None

    def answer(
        self,
        seqs: Sequence[int],
        fetch: Callable[[int], Any | None],
        limit: int | None,
        token: str | None,
    ) -> dict[str, Any]:
        """The page after ``token`` of the items at ``seqs`` (``fetch`` None: left out)."""
        size = limit or self.default
        if self.maximum is not None:
            size = min(size, self.maximum)
        return listing(self.key, *paginate(self.kind, seqs, fetch, size, token))


@dataclass(frozen=True)
class Listing:
    """Every item an operation lists, to be paged: their creation sequences, and ``fetch``
    giving an item's answer by sequence (None: left out)."""

    seqs: Sequence[int]
    fetch: Callable[[int], Any | None]


Operation = Callable[..., Any]


def paged(pages: Pages) -> Callable[[Operation], Operation]:
    """A List*/Describe* operation that pages (moto's ``@paginate`` is the idea): the
    decorated function never sees ``Limit`` or ``NextToken``; it returns a
    :class:`Listing` to page, a list (the whole answer, e.g. of the items asked for by
    name) or an answer as it is."""

    def decorate(function: Operation) -> Operation:
        @functools.wraps(function)
        def operation(
            state: Any,
            *,
            Limit: int | None = None,  # noqa: N803 (AWS's member names)
            NextToken: str | None = None,  # noqa: N803
            **members: Any,
        ) -> Any:
            result = function(state, **members)
            if isinstance(result, Listing):
                return pages.answer(result.seqs, result.fetch, Limit, NextToken)
            if isinstance(result, list):
                return {pages.key: result}
            return result

        return operation

    return decorate
