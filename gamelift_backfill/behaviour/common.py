"""What the behaviour of both resources shares: results, the log, a delete's options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from gamelift_backfill.core.errors import Failure
from gamelift_backfill.core.tickets import Clock, OnEvent, PipelineOptions, Sleep


class Log(Protocol):
    """Where a front end's messages go (``pulumi.log`` for both Pulumi front ends)."""

    def info(self, msg: str) -> None: ...

    def warn(self, msg: str) -> None: ...

    def error(self, msg: str) -> None: ...


@dataclass(frozen=True)
class Checked:
    """Check's answer: the inputs as they will be stored, and per-property failures."""

    inputs: dict[str, Any]
    failures: list[Failure] = field(default_factory=list)


@dataclass(frozen=True)
class Diffed:
    """Diff's answer: whether anything changed, what replaces, and in which order."""

    changes: bool
    replaces: list[str]
    delete_before_replace: bool


@dataclass(frozen=True)
class Waiting:
    """How a delete waits: its deadline and the front end's clock, sleep and progress.

    ``deadline_seconds`` overrides the stored ``stop_timeout_seconds`` (the native
    provider's customTimeouts); None keeps the stored one. ``clock`` and ``sleep`` None
    are the core's own (monotonic time, ``time.sleep``).
    """

    deadline_seconds: float | None = None
    clock: Clock | None = None
    sleep: Sleep | None = None
    on_event: OnEvent | None = None

    def timeout(self, stored: object, default: float) -> float:
        """The deadline this delete runs under, in seconds from now."""
        if self.deadline_seconds:
            return float(self.deadline_seconds)
        return float(stored) if isinstance(stored, int | float) and stored else default

    def options(self, timeout_seconds: float) -> PipelineOptions:
        """The core's pipeline options for this wait (only those set)."""
        options = PipelineOptions(timeout_seconds=timeout_seconds)
        if self.clock is not None:
            options["clock"] = self.clock
        if self.sleep is not None:
            options["sleep"] = self.sleep
        if self.on_event is not None:
            options["on_event"] = self.on_event
        return options


NO_OVERRIDE = Waiting()  # the stored deadline, the core's clock, sleep and no progress
