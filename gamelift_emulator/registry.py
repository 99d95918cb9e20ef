"""Resources of one kind, and the tags of all of them: written once, used by every kind.

A :class:`Registry` is what GameLift does alike for rule sets, configurations, queues,
fleets, aliases and game sessions: look one up by name, ID or ARN (``NotFoundException``
naming it), refuse a second with the same ID, drop one, describe some by name, and page
through all in creation order (:class:`paging.Pages`). :class:`Tags` is the tagging
service every taggable kind shares (moto's ``TaggingService`` is the idea).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from .exceptions import GameLiftError, NotFoundException, TaggingFailedException
from .paging import Listing, Pages, paged

__all__ = ["MAX_TAGS", "Registry", "Tags", "describe_operation", "resource_id"]

Json = dict[str, Any]
MAX_TAGS = 50  # AWS: "up to 50 tags" per resource


class _Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


T = TypeVar("T", bound=_Sequenced)


def resource_id(arn_or_name: str, resource: str) -> str:
    """The name or ID at the end of ``arn:...:<resource>/<id>`` (or the value itself)."""
    marker = f":{resource}/"
    return arn_or_name.split(marker, 1)[1] if marker in arn_or_name else arn_or_name


class Registry(Generic[T]):
    """The resources of one kind, by ID, in creation order.

    ``noun`` names the kind in messages ("Fleet fleet-1 not found."); ``resource`` is its
    ARN's resource type (an ARN given for an ID is cut to the ID), empty when IDs are
    whole ARNs; ``arn_of`` gives an item's ARN (tags are kept by it); ``conflict`` is the
    error for an ID taken already.
    """

    def __init__(
        self,
        noun: str,
        resource: str,
        arn_of: Callable[[T], str],
        conflict: Callable[[str], GameLiftError],
    ) -> None:
        self.noun = noun
        self.resource = resource
        self.arn_of = arn_of
        self._conflict = conflict
        self._items: dict[str, T] = {}  # insertion order is creation order

    def key(self, name_or_arn: str) -> str:
        return resource_id(name_or_arn, self.resource) if self.resource else name_or_arn

    def find(self, name_or_arn: str) -> T | None:
        return self._items.get(self.key(name_or_arn))

    def get(self, name_or_arn: str) -> T:
        """The item, or NotFoundException naming it."""
        key = self.key(name_or_arn)
        try:
            return self._items[key]
        except KeyError:
            raise NotFoundException(f"{self.noun} {key} not found.") from None

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def claim(self, key: str) -> str:
        """``key``, or ``conflict`` if an item has it already (checked before the work
        of making the item, and before its errors)."""
        if key in self._items:
            raise self._conflict(f"{self.noun} {key} already exists.")
        return key

    def add(self, key: str, item: T) -> T:
        """Keep a new item; ``conflict`` if its ID is taken."""
        self._items[self.claim(key)] = item
        return item

    def remove(self, name_or_arn: str, tags: Tags) -> T:
        """Drop the item (NotFound if there is none) and its tags."""
        item = self.get(name_or_arn)
        del self._items[self.key(name_or_arn)]
        tags.drop(self.arn_of(item))
        return item

    def keep_only(self, keep: Callable[[T], bool]) -> None:
        """Drop every item ``keep`` refuses (their tags stay with whoever drops them)."""
        self._items = {k: v for k, v in self._items.items() if keep(v)}

    def described(
        self, names: Iterable[str], render: Callable[[T], Json], *, missing_ok: bool
    ) -> list[Json]:
        """``render`` of each named item: unknown names skipped (``missing_ok``, as
        AWS's Describe* of fleets and configurations), else NotFound."""
        if missing_ok:
            return [render(item) for name in names if (item := self.find(name)) is not None]
        return [render(self.get(name)) for name in names]

    def listing(self, render: Callable[[T], Any], items: Iterable[T] | None = None) -> Listing:
        """``items`` (default: all) in creation order, to page (``paging.paged``);
        ``render`` returning None leaves an item out."""
        by_seq = {item.seq: item for item in (self._items.values() if items is None else items)}
        return Listing(list(by_seq), lambda seq: render(by_seq[seq]))

    def describe(
        self, names: list[str] | None, render: Callable[[T], Json], *, missing_ok: bool
    ) -> list[Json] | Listing:
        """A Describe* answer: the items named (see ``described``), or all of them, paged."""
        if names:
            return self.described(names, render, missing_ok=missing_ok)
        return self.listing(render)


class Tags:
    """Tags of every taggable resource, by ARN, at most ``MAX_TAGS`` each."""

    def __init__(self) -> None:
        self._by_arn: dict[str, dict[str, str]] = {}

    def add(self, arn: str, tags: list[Json] | None) -> None:
        """Add or overwrite ``tags`` (``[{"Key", "Value"}]``); TaggingFailed past the cap."""
        if not tags:
            return
        current = dict(self._by_arn.get(arn, {}))
        current.update({t["Key"]: t["Value"] for t in tags})
        if len(current) > MAX_TAGS:
            raise TaggingFailedException(
                f"Resource {arn} would have {len(current)} tags; at most {MAX_TAGS} are allowed."
            )
        self._by_arn[arn] = current

    def remove(self, arn: str, keys: list[str]) -> None:
        current = self._by_arn.get(arn, {})
        for key in keys:
            current.pop(key, None)

    def of(self, arn: str) -> list[Json]:
        return [{"Key": k, "Value": v} for k, v in self._by_arn.get(arn, {}).items()]

    def drop(self, arn: str) -> None:
        self._by_arn.pop(arn, None)


def describe_operation(
    name: str,
    registry_of: Callable[[Any], Registry[Any]],
    pages: Pages,
    render: Callable[[Any], Json],
    *,
    ids: str = "Names",
    missing_ok: bool,
) -> Callable[..., Any]:
    """A Describe* operation of one kind, named ``name``: the items the request member
    ``ids`` names, or all of them, paged (``missing_ok``: see ``Registry.described``)."""

    def operation(state: Any, **members: Any) -> list[Json] | Listing:
        return registry_of(state).describe(members.get(ids), render, missing_ok=missing_ok)

    operation.__name__ = operation.__qualname__ = name
    return paged(pages)(operation)
