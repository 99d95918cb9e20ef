"""The two resources as the native plugin serves them: adapters of the shared behaviour
(``gamelift_backfill.behaviour``), as the dynamic resources are.

What only the native provider can do is added here: import (Read with only an ID), a
delete whose wait the request's ``timeout`` (customTimeouts) bounds and Cancel ends
(``Watch``), and a ticket ID derived from the URN the engine sends (the dynamic resource
derives it in the program). Errors go up unphrased: the plugin words them in the native
provider's phrasebook; Check's failures are worded by the behaviour with the same one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi

from gamelift_backfill.behaviour.common import Diffed, Waiting
from gamelift_backfill.behaviour.guard import Guard as GuardBehaviour
from gamelift_backfill.behaviour.ticket import Ticket as TicketBehaviour
from gamelift_backfill.behaviour.ticket import derived_ticket_id
from gamelift_backfill.core.errors import Failure
from gamelift_backfill.declaration import GUARD, TICKET
from gamelift_backfill.translate import NATIVE, ProviderConfig

from .cancel import CancelFlag, Watch

# Concurrent deletes of tickets in one place share the process's two clients (read, stop):
# their connection pools are sized for this many at once (the engine's parallelism), so
# that no connection is opened per call and discarded.
CONCURRENT_TICKET_DELETES = 64


@dataclass(frozen=True)
class Checked:
    inputs: dict[str, Any]
    failures: list[Failure]  # snake_case fields, worded for the native provider


@dataclass(frozen=True)
class Read:
    id: str  # empty: gone, the engine drops it
    outs: dict[str, Any]
    inputs: dict[str, Any] | None


class NativeResource(Protocol):
    """What the plugin asks of a resource type; properties are snake_case dicts."""

    secret_outputs: tuple[str, ...]

    def check(self, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> Checked: ...

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Diffed: ...

    def create(self, urn: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]: ...

    def read(self, id_: str, props: dict[str, Any], inputs: dict[str, Any]) -> Read: ...

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]: ...

    def watch(self, id_: str, props: dict[str, Any], flag: CancelFlag) -> Watch: ...

    def delete(self, id_: str, props: dict[str, Any], watch: Watch, timeout: float) -> None: ...


def _urn_parts(urn: str) -> tuple[str, str, str]:
    """(project, stack, resource name) of ``urn:pulumi:STACK::PROJECT::TYPE::NAME``."""
    parts = urn.split("::")
    return parts[1], parts[0].removeprefix("urn:pulumi:"), parts[-1]


def _waiting(watch: Watch, timeout: float) -> Waiting:
    """The request's ``timeout`` (customTimeouts) when given, Cancel through the watch."""
    return Waiting(
        deadline_seconds=timeout if timeout > 0 else None,
        clock=watch.clock,
        sleep=watch.sleep,
        on_event=watch.on_event,
    )


class Ticket:
    """`gamelift-backfill:index:BackfillTicket`."""

    secret_outputs: tuple[str, ...] = TICKET.secret_names

    def __init__(self, config: ProviderConfig) -> None:
        self.behaviour = TicketBehaviour(config, NATIVE, pulumi.log)

    def check(self, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> Checked:
        """Validate offline, resolve region and endpoint; unknowns pass."""
        checked = self.behaviour.check(news)
        return Checked(checked.inputs, checked.failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Diffed:
        """The stored outputs against the checked new inputs."""
        return self.behaviour.diff(olds, news)

    def create(self, urn: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Start or adopt; without a ``ticketId`` the ID is derived from the URN and the
        identity inputs, so a create retried after a crash resumes the ticket it started."""
        derived = None
        if not props.get("ticket_id"):
            derived = derived_ticket_id(*_urn_parts(urn), props)
        return self.behaviour.create(props, derived)

    def read(self, id_: str, props: dict[str, Any], inputs: dict[str, Any]) -> Read:
        """Refresh from state; with no state (``pulumi import``) adopt by ID."""
        if not props.get("region"):
            outs, imported = self.behaviour.adopt_by_id(id_)
            return Read(id_, outs, imported)
        found, outs = self.behaviour.read(id_, props)
        return Read(found, outs, inputs or None)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        """In place; every output returned."""
        return self.behaviour.update(olds, news)

    def watch(self, id_: str, props: dict[str, Any], flag: CancelFlag) -> Watch:
        return Watch(f"backfill ticket {id_}", flag, known=(id_,))

    def delete(self, id_: str, props: dict[str, Any], watch: Watch, timeout: float) -> None:
        """StopMatchmaking and wait, under the request's deadline."""
        self.behaviour.delete(id_, props, _waiting(watch, timeout), CONCURRENT_TICKET_DELETES)


class Guard:
    """`gamelift-backfill:index:BackfillGuard`."""

    secret_outputs: tuple[str, ...] = GUARD.secret_names

    def __init__(self, config: ProviderConfig) -> None:
        self.behaviour = GuardBehaviour(config, NATIVE, pulumi.log)

    def check(self, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> Checked:
        checked = self.behaviour.check(news)
        return Checked(checked.inputs, checked.failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Diffed:
        return self.behaviour.diff(olds, news)

    def create(self, urn: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.behaviour.create(props)

    def read(self, id_: str, props: dict[str, Any], inputs: dict[str, Any]) -> Read:
        return Read(id_, self.behaviour.read(id_, props), inputs or None)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        return self.behaviour.update(olds, news)

    def watch(self, id_: str, props: dict[str, Any], flag: CancelFlag) -> Watch:
        fleets = ", ".join(str(f) for f in props.get("fleet_ids") or [])
        return Watch(f"BackfillGuard {id_} (fleets {fleets})", flag)

    def delete(self, id_: str, props: dict[str, Any], watch: Watch, timeout: float) -> None:
        """Drain under the request's deadline."""
        self.behaviour.delete(id_, props, _waiting(watch, timeout))


def resource_types(config: ProviderConfig) -> Mapping[str, NativeResource]:
    """Each type token's implementation, for one provider configuration."""
    return {TICKET.token: Ticket(config), GUARD.token: Guard(config)}
