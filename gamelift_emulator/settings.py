"""The emulator's run-time settings: each declared once, in :class:`EmulatorSettings`.

A setting is one field there: its name, default and description (``setting``). Every
surface is derived from those fields:

* validation (:func:`validated_changes`): a ``bool`` takes only ``true``/``false``, a
  number only a finite non-negative number;
* the control API (``GET``/``POST /_emulator/settings``, :mod:`control`);
* ``EmulatorControl.settings`` (:mod:`client`), which refuses a name not declared here;
* the ``python -m gamelift_emulator`` options (:func:`option_name`, :mod:`__main__`).

``BackendStore.reset`` restores the settings it started with.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .exceptions import InvalidRequestException

__all__ = [
    "EmulatorSettings",
    "SettingValue",
    "assign_settings",
    "copy_settings",
    "describe",
    "option_name",
    "parse_text",
    "setting_names",
    "validated_changes",
]

SettingValue = float | bool


def setting(default: SettingValue, description: str) -> Any:
    """A settings field: its default and the one description every surface shows."""
    return dataclasses.field(default=default, metadata={"description": description})


@dataclass
class EmulatorSettings:
    """Knobs of the lifecycle, changeable at run time through the control API."""

    stop_delay_ms: float = setting(
        100.0, "StopMatchmaking -> CANCELLED (AWS cancels asynchronously)"
    )
    queued_ms: float = setting(50.0, "QUEUED -> SEARCHING")
    retention_s: float = setting(
        300.0, "how long final tickets stay visible to DescribeMatchmaking"
    )
    auto_backfill_regenerate: bool = setting(
        True, "a new automatic backfill ticket after one ends unmatched"
    )
    match_delay_ms: float = setting(500.0, "SEARCHING -> a match the rules allow (matching pass)")
    placement_ms: float = setting(200.0, "PLACING -> COMPLETED with a game session")
    seed: float = setting(
        0.0,
        "seed of match, session and event IDs and of the random delays, for Regions "
        "first used after it",
    )
    session_activation_ms: float = setting(
        0.0,
        "CreateGameSession: ACTIVATING for this long, then ACTIVE (0: ACTIVE at once, so "
        "a session is usable right away)",
    )
    session_termination_ms: float = setting(
        0.0, "TerminateGameSession: TERMINATING for this long, then TERMINATED (0: at once)"
    )
    auto_backfill_delay_ms: float = setting(
        0.0,
        "delay before a session's replacement automatic backfill ticket starts, after its "
        "ticket ended on its own (COMPLETED, TIMED_OUT, FAILED); 0: at once; AWS documents "
        "no delay",
    )
    auto_backfill_delay_jitter_ms: float = setting(
        0.0,
        "a random part added to that delay, uniform in [0, this], drawn per replacement "
        "from the backend's own generator seeded by seed (same seed and calls, same delays)",
    )


def setting_names() -> list[str]:
    """Every setting's name, in declaration order."""
    return [f.name for f in fields(EmulatorSettings)]


def describe(name: str) -> str:
    """The setting's description, as declared."""
    return str(_field(name).metadata["description"])


def option_name(name: str) -> str:
    """The ``python -m gamelift_emulator`` option that sets ``name``."""
    return "--" + name.replace("_", "-")


def _field(name: str) -> dataclasses.Field[Any]:
    return next(f for f in fields(EmulatorSettings) if f.name == name)


def _is_flag(name: str) -> bool:
    return isinstance(_field(name).default, bool)


def validated_changes(changes: Mapping[str, object]) -> dict[str, object]:
    """The changes as the settings hold them; InvalidRequest naming the field and the fix."""
    known = sorted(setting_names())
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise InvalidRequestException(f"unknown settings {unknown}; known: {known}")
    out: dict[str, object] = {}
    for name, value in changes.items():
        if _is_flag(name):
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


def parse_text(name: str, text: str) -> object:
    """A command-line value of setting ``name``, validated as the control API validates."""
    value: object = text
    if _is_flag(name):
        value = {"true": True, "false": False}.get(text.lower(), text)
    else:
        with contextlib.suppress(ValueError):
            value = float(text)
    return validated_changes({name: value})[name]


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
