"""The emulator's run-time settings: defined, validated and restored in this one place.

The control API (``POST /_emulator/settings``) and in-process callers both go through
:func:`validated_changes`; ``BackendStore.reset`` restores the settings it started with.
A setting's type is its default's: a ``bool`` takes only ``true``/``false``, a number
only a finite non-negative number.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

from .exceptions import InvalidRequestException

__all__ = ["EmulatorSettings", "assign_settings", "copy_settings", "validated_changes"]


@dataclass
class EmulatorSettings:
    """Knobs of the lifecycle, changeable at run time through the control API."""

    stop_delay_ms: float = 100.0  # StopMatchmaking -> CANCELLED (AWS cancels asynchronously)
    queued_ms: float = 50.0  # QUEUED -> SEARCHING
    retention_s: float = 300.0  # how long final tickets stay visible to DescribeMatchmaking
    auto_backfill_regenerate: bool = True  # a new automatic ticket after one ends unmatched
    match_delay_ms: float = 500.0  # SEARCHING -> a match the rules allow (matching pass)
    placement_ms: float = 200.0  # PLACING -> COMPLETED with a game session
    seed: float = 0.0  # match, game session and event IDs of backends created after it
    # CreateGameSession: ACTIVATING for this long, then ACTIVE (0: ACTIVE at once, so a
    # session is usable right away, as the provider's tests and the demo expect).
    session_activation_ms: float = 0.0
    # TerminateGameSession: TERMINATING for this long, then TERMINATED (0: at once).
    session_termination_ms: float = 0.0
    # After a session's backfill ticket ends on its own (COMPLETED, TIMED_OUT, FAILED), the
    # replacement automatic ticket starts this long after (AWS documents no delay; 0: at
    # once, as before), plus a seeded random part of 0 to ``auto_backfill_delay_jitter_ms``:
    # uniform in [delay, delay + jitter], drawn per replacement from the backend's own
    # generator, seeded by ``seed`` (same seed and calls, same delays).
    auto_backfill_delay_ms: float = 0.0
    auto_backfill_delay_jitter_ms: float = 0.0


def validated_changes(changes: Mapping[str, object]) -> dict[str, object]:
    """The changes as the settings hold them; InvalidRequest naming the field and the fix."""
    defaults = EmulatorSettings()
    known = sorted(f.name for f in fields(EmulatorSettings))
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise InvalidRequestException(f"unknown settings {unknown}; known: {known}")
    out: dict[str, object] = {}
    for name, value in changes.items():
        if isinstance(getattr(defaults, name), bool):
            if not isinstance(value, bool):
                raise InvalidRequestException(f"setting {name!r} must be true or false")
            out[name] = value
        else:
            number = _finite(value)
            if number is None or number < 0:
                raise InvalidRequestException(
                    f"setting {name!r} must be a finite number >= 0, got {_shown(value)}"
                )
            out[name] = number
    return out


def _finite(value: object) -> float | None:
    """``value`` as a finite float, or None (a bool, not a number, NaN, infinite, too big)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def _shown(value: object) -> str:
    """``value`` for an error message, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def assign_settings(settings: EmulatorSettings, values: Mapping[str, object]) -> None:
    """Update ``settings`` in place: every backend holds a reference to this very object."""
    for name, value in values.items():
        setattr(settings, name, value)


def copy_settings(settings: EmulatorSettings) -> EmulatorSettings:
    """An independent copy (what ``reset`` restores)."""
    return dataclasses.replace(settings)
