"""Pages of Describe*/List* answers: opaque NextTokens that survive changes between pages."""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .exceptions import InvalidRequestException

__all__ = ["DEFAULT_PAGE_SIZE", "listing", "paginate"]

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
