"""Which modules a dynamic resource's stored ``__provider`` refers to: the one reader of its
pickle's opcodes, for the release-1 migration and for the doctor.

Release 1 lived in a project's ``providers/`` folder, so dill recorded
``providers.backfill_ticket`` / ``providers.backfill_guard`` (by reference) in the
``__provider`` of every resource it created, and a destroy must import that module again.
The package's resources diff such a state as changed: the engine then calls Update, whose
outputs the plugin stores with the program's ``__provider`` (it always sets
``outs["__provider"] = news["__provider"]``). So one ``pulumi up`` with the package
re-records the reference, after which ``providers/`` is no longer needed.

The pickle is never loaded here (loading would import the old module, or run whatever a
hostile state's pickle says): :func:`references` walks its opcodes with
:func:`pickletools.genops`, which decodes them and executes nothing. ``doctor/pickles.py``
uses the same reader to tell whether those modules can still be imported.
"""

from __future__ import annotations

import base64
import binascii
import pickletools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROVIDER_KEY = "__provider"
RELEASE_1_MODULES = frozenset({"providers.backfill_ticket", "providers.backfill_guard"})
OUR_PACKAGES = ("providers.", "gamelift_backfill.")
# A provider pickle is a few hundred bytes; a dill pickle by value a few hundred KiB.
MAX_PICKLE_BYTES = 16 * 1024 * 1024
_STRING_OPS = frozenset(
    {
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
        "UNICODE",
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
    }
)
_MEMO_GETS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_MEMO_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"})


class PickleUnreadableError(ValueError):
    """The value is not a base64 pickle that pickletools can walk."""


@dataclass(frozen=True)
class Reference:
    """A global a pickle loads: ``module.name``."""

    module: str
    name: str


def decode(value: str) -> bytes:
    """The pickle bytes of a ``__provider`` value (base64)."""
    if len(value) > MAX_PICKLE_BYTES * 4 // 3 + 4:
        raise PickleUnreadableError("larger than a provider pickle can be")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PickleUnreadableError(f"not base64 ({exc})") from None


def references(data: bytes) -> list[Reference]:
    """Every global the pickle would load, in order, by reading its opcodes only.

    Protocols 0 to 3 give ``"module name"`` as GLOBAL's argument. STACK_GLOBAL (protocol
    4+) takes module and name from the stack; they are the last two strings pushed
    (directly or from the memo), which is how pickle and dill write them.
    """
    found: list[Reference] = []
    pushed: list[object] = []  # the most recent pushes: a str for a string, else None
    memo: dict[object, object] = {}
    try:
        for opcode, arg, _ in pickletools.genops(data):
            name = opcode.name
            if name in _STRING_OPS:
                pushed.append(arg if isinstance(arg, str) else None)
            elif name in _MEMO_PUTS:
                memo[len(memo) if name == "MEMOIZE" else arg] = pushed[-1] if pushed else None
            elif name in _MEMO_GETS:
                pushed.append(memo.get(arg))
            elif name == "GLOBAL" and isinstance(arg, str):
                module, _, attribute = arg.partition(" ")
                found.append(Reference(module, attribute))
                pushed.append(None)
            elif name == "STACK_GLOBAL":
                top = pushed[-2:] if len(pushed) >= 2 else [None, None]
                if isinstance(top[0], str) and isinstance(top[1], str):
                    found.append(Reference(top[0], top[1]))
                pushed.append(None)
            elif opcode.stack_after:
                pushed.append(None)
            del pushed[:-8]  # only the last few pushes are ever looked at
    except (ValueError, IndexError, KeyError, EOFError) as exc:
        raise PickleUnreadableError(f"not a readable pickle ({exc})") from None
    return found


def referenced_modules(serialized: str) -> set[str]:
    """Modules of ours (``providers.*``, ``gamelift_backfill.*``) a serialized provider
    (base64 of a dill pickle) loads a global from; an unreadable value refers to nothing."""
    try:
        found = references(decode(serialized))
    except PickleUnreadableError:
        return set()
    return {ref.module for ref in found if ref.module.startswith(OUR_PACKAGES)}


def refers_to_release_1(props: Mapping[str, Any]) -> bool:
    """Whether ``props["__provider"]`` names a release-1 module (``providers.*``)."""
    serialized = props.get(PROVIDER_KEY)
    return isinstance(serialized, str) and bool(referenced_modules(serialized) & RELEASE_1_MODULES)


def needs_new_reference(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """The state refers to a release-1 module and the program's provider does not: the
    diff must report a change so that Update stores the program's reference."""
    serialized = news.get(PROVIDER_KEY)
    if not isinstance(serialized, str) or not referenced_modules(serialized):
        return False  # unknown or absent (preview, a direct call): nothing to compare
    return refers_to_release_1(olds) and not refers_to_release_1(news)
