"""One account's GameLift in one Region: all of its state, in one object, and no rules.

The operation modules (:mod:`configurations`, :mod:`fleets`, :mod:`game_sessions`,
:mod:`matchmaking`, :mod:`matches`, :mod:`control_ops`) are siblings: plain functions
taking this state as their first argument. Timed changes of every kind wait on one heap
(``schedule``), applied in time order by :mod:`lifecycle`. ``models.GameLiftBackend``
holds one of these and runs each operation under its lock.
"""

from __future__ import annotations

import heapq
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from .clock import Clock
from .events import EventLog
from .exceptions import ConflictException, InvalidRequestException, NotFoundException
from .matching import Candidate
from .records import Alias, Fleet, GameSession, NamedResource, PlayerSession, Proposal, Ticket
from .registry import Registry, Tags
from .rulesets import RuleSet
from .settings import EmulatorSettings

__all__ = ["BackendState", "Json", "earliest"]

Json = dict[str, Any]
# The bits uuid.UUID(int=..., version=4) sets: version 4, RFC 4122 variant.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def _data_arn(member: str) -> Callable[[Any], str]:
    """The ARN of a resource kept as AWS's dict, under ``member``."""
    return lambda item: str(item.data[member])


class BackendState:
    """Everything one account's GameLift in one Region holds."""

    def __init__(
        self, account_id: str, region: str, clock: Clock, settings: EmulatorSettings
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.clock = clock
        self.settings = settings
        self.lock = threading.Lock()
        self._seq = 0
        # resources
        named, taken = InvalidRequestException, ConflictException  # AWS's errors for a taken ID
        self.rule_sets = Registry[NamedResource](
            "Matchmaking rule set", "matchmakingruleset", _data_arn("RuleSetArn"), named
        )
        self.configurations = Registry[NamedResource](
            "Matchmaking configuration",
            "matchmakingconfiguration",
            _data_arn("ConfigurationArn"),
            named,
        )
        self.queues = Registry[NamedResource](
            "Game session queue", "gamesessionqueue", _data_arn("GameSessionQueueArn"), named
        )
        self.fleets = Registry[Fleet]("Fleet", "fleet", lambda f: f.fleet_arn, taken)
        self.aliases = Registry[Alias]("Alias", "alias", _data_arn("AliasArn"), taken)
        # by ARN (IDs are whole ARNs)
        self.sessions = Registry[GameSession]("Game session", "", lambda s: s.arn, taken)
        self.sessions_by_seq: dict[int, GameSession] = {}
        self.player_sessions: dict[str, PlayerSession] = {}  # by ID, in creation order
        self.tags = Tags()
        # tickets
        self.tickets: dict[str, Ticket] = {}  # in creation order
        self.active_by_configuration: Counter[str] = Counter()
        self.searching: dict[str, dict[str, Ticket]] = {}  # configuration -> tickets
        self.player_tickets: dict[str, str] = {}  # player ID -> newest matchmaking ticket
        self.pass_due: dict[str, float] = {}  # configuration -> next matching pass
        self.replacements: dict[str, int] = {}  # session ARN -> token of its scheduled one
        # matches
        self.proposals: dict[str, Proposal] = {}
        self.candidates: dict[str, tuple[RuleSet, Candidate]] = {}  # by ticket ID
        # timed changes of every kind: (due, seq, kind, key, epoch)
        self.due: list[tuple[float, int, str, str, int]] = []
        self.rng = random.Random(int(settings.seed))
        # Delays of replacement automatic tickets: a generator of their own, so that drawing
        # them changes no ID or match of a seeded run.
        self.delay_rng = random.Random(f"auto-backfill-delay:{int(settings.seed)}")
        self.event_log = EventLog()

    def next_seq(self) -> int:
        """A creation order inside this backend (pages, ports and event ties)."""
        self._seq += 1
        return self._seq

    def arn(self, resource: str, name: str, *, account: bool = True) -> str:
        account_part = self.account_id if account else ""
        return f"arn:aws:gamelift:{self.region}:{account_part}:{resource}/{name}"

    def uuid(self) -> str:
        """A UUID (version 4) from the backend's seeded generator: same seed, same IDs."""
        digits = f"{self.rng.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET:032x}"
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"

    def schedule(self, due: float, kind: str, key: str, epoch: int = 0) -> None:
        """A timed change of ``kind`` about ``key`` at ``due`` (see :mod:`lifecycle`)."""
        heapq.heappush(self.due, (due, self.next_seq(), kind, key, epoch))

    def taggable(self) -> tuple[Registry[Any], ...]:
        """The registries of the kinds that carry tags."""
        return (self.rule_sets, self.configurations, self.queues, self.fleets, self.aliases)

    def ticket(self, ticket_id: str) -> Ticket:
        try:
            return self.tickets[ticket_id]
        except KeyError:
            raise NotFoundException(f"Matchmaking ticket {ticket_id} not found.") from None


def earliest(first: float | None, second: float | None) -> float | None:
    """The earlier of two optional times."""
    if first is None:
        return second
    return first if second is None else min(first, second)
