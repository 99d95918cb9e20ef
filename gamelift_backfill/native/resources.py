"""The two resources as the native plugin serves them, over the same core and code as the
dynamic resources.

Check, Diff, Create, Read and Update call the dynamic providers' own methods with the
properties in snake_case, so both front ends behave the same by construction; where calls
go (configuration, region and endpoint rules, clients per role) comes from the shared
translation layer (``gamelift_backfill.translate``), as for the dynamic resources. What the
dynamic provider cannot do is added here: import (Read with only an ID), a delete whose
wait the request's ``timeout`` bounds and Cancel ends (``Watch``), and a ticket ID derived
from the URN the engine sends (the dynamic resource derives it in the program).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi

from gamelift_backfill import backfill_guard, backfill_ticket
from gamelift_backfill.backfill_guard import BackfillGuardProvider
from gamelift_backfill.backfill_ticket import BackfillTicketProvider
from gamelift_backfill.core.drain import drain
from gamelift_backfill.core.errors import BackfillError, NotFoundError
from gamelift_backfill.core.starting import derive_ticket_id
from gamelift_backfill.core.tickets import GONE, ProgressEvent, describe_tickets, stop_and_wait
from gamelift_backfill.translate import (
    ProviderConfig,
    Where,
    endpoint_or_raise,
    region_for,
    stored_where,
)

from .cancel import CancelFlag, Watch

# Concurrent deletes of tickets in one place share the process's two clients (read, stop):
# their connection pools are sized for this many at once (the engine's parallelism), so
# that no connection is opened per call and discarded.
CONCURRENT_TICKET_DELETES = 64


@dataclass(frozen=True)
class Checked:
    inputs: dict[str, Any]
    failures: list[tuple[str, str]]  # (snake_case field, reason)


@dataclass(frozen=True)
class Diffed:
    changes: bool
    replaces: list[str]
    delete_before_replace: bool


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


def _deadline(stored: Any, timeout: float) -> float:
    """customTimeouts (the request's ``timeout``) when given, else ``stopTimeoutSeconds``."""
    if timeout > 0:
        return timeout
    return float(stored or backfill_ticket.DEFAULT_TIMEOUT)


def _urn_parts(urn: str) -> tuple[str, str, str]:
    """(project, stack, resource name) of ``urn:pulumi:STACK::PROJECT::TYPE::NAME``."""
    parts = urn.split("::")
    return parts[1], parts[0].removeprefix("urn:pulumi:"), parts[-1]


class _OverDynamic:
    """Check, Diff and Update by the dynamic provider's own methods, configured with the
    native provider's configuration (never pickled: no state holds this provider)."""

    provider: BackfillTicketProvider | BackfillGuardProvider

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.provider._config = config

    def check(self, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> Checked:
        """Validate offline, resolve region and endpoint; unknowns pass."""
        result = self.provider.check(olds, news)
        return Checked(
            dict(result.inputs or {}), [(f.property, f.reason) for f in result.failures or []]
        )

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Diffed:
        """The stored outputs against the checked new inputs."""
        result = self.provider.diff(id_, olds, news)
        return Diffed(
            bool(result.changes), list(result.replaces or []), bool(result.delete_before_replace)
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        """In place; every output returned."""
        return dict(self.provider.update(id_, olds, news).outs or {})


class Ticket(_OverDynamic):
    """`gamelift-backfill:index:BackfillTicket`."""

    secret_outputs: tuple[str, ...] = ("players",)
    provider: BackfillTicketProvider

    def __init__(self, config: ProviderConfig) -> None:
        self.provider = BackfillTicketProvider()
        super().__init__(config)

    def create(self, urn: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Start or adopt; without a ``ticketId`` the ID is derived from the URN and the
        identity inputs, so a create retried after a crash resumes the ticket it started."""
        if not props.get("ticket_id"):
            project, stack, name = _urn_parts(urn)
            identity = {
                k: props.get(k)
                for k in ("configuration_name", "game_session_arn", "players", "region")
            }
            props = {
                **props,
                backfill_ticket.DERIVED_KEY: derive_ticket_id(project, stack, name, identity),
            }
        result = self.provider.create(props)
        return result.id, dict(result.outs or {})

    def read(self, id_: str, props: dict[str, Any], inputs: dict[str, Any]) -> Read:
        """Refresh from state; with no state (``pulumi import``) adopt by ID."""
        if not props.get("region"):
            return self._import(id_)
        result = self.provider.read(id_, props)
        return Read(result.id or "", dict(result.outs or {}), inputs or None)

    def _import(self, id_: str) -> Read:
        """``pulumi import``: only the ID is known; the provider's settings say where."""
        region = region_for(None, self.config)
        endpoint = endpoint_or_raise(None, self.config, "endpointUrl")
        ticket = describe_tickets(Where(region, endpoint).client(), [id_]).get(id_)
        if ticket is None:
            raise NotFoundError(
                f"cannot import backfill ticket {id_}: GameLift in region {region} does not "
                "know it. Check the ID, and the provider's `region` / `endpointUrl`."
            )
        where = {
            "region": region,
            "endpoint_url": endpoint,
            "stop_timeout_seconds": backfill_ticket.DEFAULT_TIMEOUT,
        }
        outs = backfill_ticket._outputs({"ticket_id": id_}, ticket, where)
        inputs = {"ticket_id": id_, "region": region, "endpoint_url": endpoint}
        return Read(id_, outs, {k: v for k, v in inputs.items() if v is not None})

    def watch(self, id_: str, props: dict[str, Any], flag: CancelFlag) -> Watch:
        return Watch(f"backfill ticket {id_}", flag, known=(id_,))

    def delete(self, id_: str, props: dict[str, Any], watch: Watch, timeout: float) -> None:
        """StopMatchmaking and wait, as the dynamic delete, under the request's deadline."""
        where = stored_where(props, self.config, CONCURRENT_TICKET_DELETES)
        report = stop_and_wait(
            where.client(),
            [id_],
            timeout_seconds=_deadline(props.get("stop_timeout_seconds"), timeout),
            stop_client=where.client("stop"),
            clock=watch.clock,
            sleep=watch.sleep,
            on_event=watch.on_event,
        )
        pulumi.log.info(f"backfill ticket {id_} ended: {report.final_status.get(id_, GONE)}")


class Guard(_OverDynamic):
    """`gamelift-backfill:index:BackfillGuard`."""

    secret_outputs: tuple[str, ...] = ()
    provider: BackfillGuardProvider

    def __init__(self, config: ProviderConfig) -> None:
        self.provider = BackfillGuardProvider()
        super().__init__(config)

    def create(self, urn: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        result = self.provider.create(props)
        return result.id, dict(result.outs or {})

    def read(self, id_: str, props: dict[str, Any], inputs: dict[str, Any]) -> Read:
        if not props.get("fleet_ids"):
            raise BackfillError(
                f"cannot import BackfillGuard {id_}: a guard is not a GameLift object. "
                "Declare it in the program with the fleets it guards instead."
            )
        result = self.provider.read(id_, props)
        return Read(result.id or "", dict(result.outs or {}), inputs or None)

    def watch(self, id_: str, props: dict[str, Any], flag: CancelFlag) -> Watch:
        fleets = ", ".join(str(f) for f in props.get("fleet_ids") or [])
        return Watch(f"BackfillGuard {id_} (fleets {fleets})", flag)

    def delete(self, id_: str, props: dict[str, Any], watch: Watch, timeout: float) -> None:
        """Drain as the dynamic delete does, under the request's deadline."""
        settings = self.provider._settings(props, stored=True)
        log = backfill_guard._DrainLog(settings)

        def on_event(event: ProgressEvent) -> None:
            watch.on_event(event)
            log.on_event(event)

        report = drain(
            settings.client(),
            settings.fleet_ids,
            stop_client=settings.client("stop"),
            configuration_name=settings.configuration_name,
            ticket_ids=settings.ticket_ids,
            timeout_seconds=_deadline(settings.stop_timeout_seconds, timeout),
            max_concurrency=settings.max_concurrency,
            on_event=on_event,
            clock=watch.clock,
            sleep=watch.sleep,
        )
        log.done(report)


def resource_types(config: ProviderConfig) -> Mapping[str, NativeResource]:
    """Each type token's implementation, for one provider configuration."""
    from gamelift_backfill.reference import GUARD_TOKEN, TICKET_TOKEN

    return {TICKET_TOKEN: Ticket(config), GUARD_TOKEN: Guard(config)}
