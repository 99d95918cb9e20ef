"""Drains every active backfill ticket of a set of fleets when the stack is destroyed.

CONTRACT: this module path and the names `BackfillGuard`, `BackfillGuardArgs` and
`BackfillGuardProvider` are stored (by reference, through dill) in the state of every
stack that uses them. `pulumi destroy` imports this module again to delete; renaming or
moving it breaks the destroy of existing stacks.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from gamelift_backfill.core.drain import DrainReport, count_active
from gamelift_backfill.core.errors import BackfillError, Failure, InputError
from gamelift_backfill.core.tickets import (
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_STOP_TIMEOUT_SECONDS,
    ProgressEvent,
    ProgressTally,
)
from gamelift_backfill.provider_reference import needs_new_reference
from gamelift_backfill.translate import (
    DYNAMIC,
    UNKNOWN_VALUE,
    ProviderConfig,
    Where,
    advice,
    comparable,
    endpoint_for,
    endpoint_or_raise,
    normalise,
    phrase,
    region_for,
)

INPUT_NAMES = (
    "fleet_ids",
    "configuration_name",
    "ticket_ids",
    "region",
    "endpoint_url",
    "stop_timeout_seconds",
    "max_concurrency",
)
OUTPUT_NAMES = ("active_ticket_count",)
REPLACE_ON = ("region",)
# 900 s: long enough for tickets in PLACING or REQUIRES_ACCEPTANCE (which cannot be
# cancelled) to end on their own; see providers/core/tickets.py.
DEFAULTS: dict[str, Any] = {
    "stop_timeout_seconds": int(DEFAULT_STOP_TIMEOUT_SECONDS),
    "max_concurrency": DEFAULT_MAX_CONCURRENCY,
}
PROGRESS_EVERY_SECONDS = 10.0


class BackfillGuardArgs:
    """Inputs of a `BackfillGuard`.

    Make the guard depend on the fleets, the queue and the matchmaking configuration it
    protects (pass their outputs, or `depends_on`): the engine then deletes the guard,
    and so drains backfill, before any of them.
    """

    fleet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Fleets whose game sessions' backfill is drained: fleet IDs, fleet ARNs or alias
    IDs."""

    configuration_name: pulumi.Input[str] | None
    """Only drain sessions whose MatchmakerData names this configuration (name or ARN)."""

    ticket_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None
    """Extra tickets to stop, e.g. manual backfills started outside this stack."""

    region: pulumi.Input[str] | None
    """AWS region. Defaults to the stack's `aws:region`, then the environment/profile.
    Resolved at create and stored; changing it replaces the guard."""

    endpoint_url: pulumi.Input[str] | None
    """GameLift endpoint: `https://...`, or `http://` to a loopback host (the local
    emulator). Defaults to `AWS_ENDPOINT_URL_GAMELIFT` / `AWS_ENDPOINT_URL`, then AWS."""

    stop_timeout_seconds: pulumi.Input[int] | None
    """How long destroy may take to see every ticket ended."""

    max_concurrency: pulumi.Input[int] | None
    """How many StopMatchmaking calls run at once during the drain."""

    def __init__(
        self,
        *,
        fleet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
        configuration_name: pulumi.Input[str] | None = None,
        ticket_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        region: pulumi.Input[str] | None = None,
        endpoint_url: pulumi.Input[str] | None = None,
        stop_timeout_seconds: pulumi.Input[int] | None = None,
        max_concurrency: pulumi.Input[int] | None = None,
    ) -> None:
        self.fleet_ids = fleet_ids
        self.configuration_name = configuration_name
        self.ticket_ids = ticket_ids
        self.region = region
        self.endpoint_url = endpoint_url
        self.stop_timeout_seconds = stop_timeout_seconds
        self.max_concurrency = max_concurrency

    def to_props(self) -> dict[str, Any]:
        """The property bag the provider receives: inputs, plus outputs to be filled."""
        props: dict[str, Any] = {name: getattr(self, name) for name in INPUT_NAMES}
        props.update(dict.fromkeys(OUTPUT_NAMES))
        return props


class BackfillGuardProvider(ResourceProvider):
    """Translates Pulumi's check/diff/create/read/update/delete into the shared core.

    Holds no client, lock or session: it is pickled into the stack's state. The only
    thing it remembers is the stack's configuration (region, endpoint), handed over by
    `configure` inside the plugin process (after unpickling).
    """

    _config: ProviderConfig = ProviderConfig()

    def configure(self, req: ConfigureRequest) -> None:
        """Remember the stack's configuration: `pulumi.Config()` does not work inside a
        provider."""
        self._config = ProviderConfig.from_mapping(req.config)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate every input offline; numbers normalised, defaults filled, unknowns kept."""
        inputs, failures = _validated(news)
        return CheckResult({**news, **inputs}, [CheckFailure(f.field, f.reason) for f in failures])

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        """Compare the stored outputs with the new inputs, normalised; only `region` replaces."""
        changed = [
            name
            for name in INPUT_NAMES
            if self._comparable(name, _news, _olds) != self._comparable(name, _olds, _olds)
        ]
        # A release-1 state (`providers.backfill_guard`) updates in place to re-record the
        # package's provider reference (provider_reference.py).
        return DiffResult(
            changes=bool(changed) or needs_new_reference(_olds, _news),
            replaces=[name for name in changed if name in REPLACE_ON],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Resolve region and endpoint, prove the fleets can be listed, count active tickets."""
        try:
            settings = self._settings(props)
            return CreateResult(f"backfill-guard-{uuid.uuid4()}", _outputs(settings))
        except BackfillError as error:
            raise phrase(error, DYNAMIC) from None

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh `active_ticket_count` with the stored region and endpoint."""
        try:
            return ReadResult(id_, _outputs(self._settings(props, stored=True)))
        except BackfillError as error:
            raise phrase(error, DYNAMIC) from None

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        """In place (diff replaces on a region change); returns every output."""
        region = _olds.get("region")
        try:
            return UpdateResult(_outputs(self._settings(_news, fallback_region=region)))
        except BackfillError as error:
            raise phrase(error, DYNAMIC) from None

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Drain with the settings stored in state; on failure the guard stays in state."""
        try:
            settings = self._settings(_props, stored=True)
            log = _DrainLog(settings)
            try:
                report = settings.drain(
                    settings.fleet_ids,
                    configuration_name=settings.configuration_name,
                    ticket_ids=settings.ticket_ids,
                    timeout_seconds=settings.stop_timeout_seconds,
                    on_event=log.on_event,
                )
            except BackfillError as error:
                log.failed(error)
                raise
        except BackfillError as error:
            raise phrase(error, DYNAMIC) from None
        log.done(report)

    # -- helpers -----------------------------------------------------------------------

    def _settings(
        self,
        props: Mapping[str, Any],
        *,
        stored: bool = False,
        fallback_region: str | None = None,
    ) -> GuardSettings:
        """Validated settings with region and endpoint resolved.

        ``stored`` props come from state (read, delete): their region and endpoint were
        resolved at create and are used as they are, whatever this machine's
        environment says, so destroy talks to the same place from anywhere.
        """
        inputs, failures = _validated(props)
        if failures:
            raise InputError(failures)
        region = inputs.get("region")
        endpoint = inputs.get("endpoint_url")
        if not stored:
            region = region_for(region, self._config, fallback_region)
            endpoint = endpoint_or_raise(endpoint, self._config)
        return GuardSettings(
            fleet_ids=list(inputs["fleet_ids"]),
            configuration_name=inputs.get("configuration_name"),
            ticket_ids=list(inputs.get("ticket_ids") or []),
            region=region or region_for(None, self._config),
            endpoint_url=endpoint,
            stop_timeout_seconds=inputs["stop_timeout_seconds"],
            max_concurrency=int(inputs["max_concurrency"]),
        )

    def _comparable(self, name: str, props: Mapping[str, Any], olds: Mapping[str, Any]) -> Any:
        """A property as create would store it, so that equal settings compare equal."""
        value = comparable(props.get(name))
        if value is UNKNOWN_VALUE:
            return value
        if name in ("fleet_ids", "ticket_ids"):
            return sorted(dict.fromkeys(value or []))  # order and repeats mean nothing
        if name == "region" and not value:
            return region_for(None, self._config, olds.get("region"))
        if name == "endpoint_url" and not value:
            return endpoint_for(None, self._config)[0]
        if name in DEFAULTS and value is None:
            return DEFAULTS[name]
        return value


@dataclass(frozen=True)
class GuardSettings(Where):
    """A guard's inputs as resolved: what is stored, and what delete drains with
    (``client(role)`` from :class:`~gamelift_backfill.translate.Where`)."""

    fleet_ids: list[str] = field(default_factory=list)
    configuration_name: str | None = None
    ticket_ids: list[str] = field(default_factory=list)
    stop_timeout_seconds: float = DEFAULT_STOP_TIMEOUT_SECONDS


def _outputs(settings: GuardSettings) -> dict[str, Any]:
    """Every output: the resolved inputs plus the active tickets counted now.

    Counting lists every fleet, which is also the proof that they can be listed with these
    credentials, region and endpoint. A fleet that does not exist is logged, not an error.
    """
    count = count_active(
        settings.client(),
        settings.fleet_ids,
        configuration_name=settings.configuration_name,
        ticket_ids=settings.ticket_ids,
    )
    for fleet in count.missing_fleets:
        pulumi.log.warn(
            f"BackfillGuard: fleet {fleet} not found in {settings.region}: nothing to drain there"
        )
    outputs = {name: getattr(settings, name) for name in INPUT_NAMES}
    outputs["ticket_ids"] = settings.ticket_ids or None
    outputs["active_ticket_count"] = count.active
    return outputs


def _validated(props: Mapping[str, Any]) -> tuple[dict[str, Any], list[Failure]]:
    """The inputs checked by the core, with defaults; failures name each property."""
    inputs = {name: props.get(name) for name in INPUT_NAMES}
    failures: list[Failure] = []
    fleet_ids = inputs["fleet_ids"]
    if fleet_ids is None or (isinstance(fleet_ids, list | tuple) and not fleet_ids):
        failures.append(Failure("fleet_ids", "needs at least one fleet ID, fleet ARN or alias ID"))
        inputs.pop("fleet_ids")
    for name, default in DEFAULTS.items():
        if inputs[name] is None:
            inputs[name] = default
    checked, more = normalise(inputs)
    return checked, failures + more


class _DrainLog:
    """Progress of a drain through Pulumi's log: counts and ticket IDs, never player IDs.

    Events come from the one thread that drives the drain, so no lock is needed.
    """

    def __init__(self, settings: GuardSettings) -> None:
        self.prefix = f"BackfillGuard ({', '.join(settings.fleet_ids)} in {settings.region})"
        self.tally = ProgressTally()
        self.last_progress = time.monotonic()

    def on_event(self, event: ProgressEvent) -> None:
        """Count each event; log once per pass and at most every few seconds while waiting."""
        self.tally.count(event)
        if event.kind in ("stopped", "already_final"):
            self._maybe_progress()
        elif event.kind == "fleet_missing":
            pulumi.log.warn(f"{self.prefix}: fleet {event.fleet_id} not found: nothing to drain")
        elif event.kind == "remaining":
            tally = self.tally
            pulumi.log.info(
                f"{self.prefix}: {tally.found} active backfill ticket(s) found so far, "
                f"{tally.stopped} stopped, {tally.already_final} already final, "
                f"{event.count} remaining"
            )

    def _maybe_progress(self) -> None:
        now = time.monotonic()
        tally = self.tally
        if tally.pending and now - self.last_progress >= PROGRESS_EVERY_SECONDS:
            self.last_progress = now
            pulumi.log.info(
                f"{self.prefix}: {tally.stopped} stopped, {len(tally.pending)} remaining"
            )

    def done(self, report: DrainReport) -> None:
        """The summary of a drain that left nothing active."""
        pulumi.log.info(
            f"{self.prefix}: drained: {report.found_active} active backfill ticket(s) found, "
            f"{report.stopped} stopped, {report.waited_out} waited out, "
            f"{report.already_final} already final, 0 remaining "
            f"({report.passes} pass(es), {report.sessions} game session(s))"
        )

    def failed(self, error: BackfillError) -> None:
        """Say what is left and that the guard stays in the stack for the next destroy."""
        left = f"{len(error.remaining)} ticket(s) remaining; " if error.remaining else ""
        pulumi.log.error(
            f"{self.prefix}: drain failed ({error.code}): {left}{advice(error, DYNAMIC)}"
        )


class BackfillGuard(Resource, module="gamelift", name="BackfillGuard"):
    """Drains every active backfill ticket of the given fleets before they are destroyed."""

    fleet_ids: pulumi.Output[list[str]]
    configuration_name: pulumi.Output[str | None]
    ticket_ids: pulumi.Output[list[str] | None]
    region: pulumi.Output[str]
    endpoint_url: pulumi.Output[str | None]
    stop_timeout_seconds: pulumi.Output[int]
    max_concurrency: pulumi.Output[int]
    active_ticket_count: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        args: BackfillGuardArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(BackfillGuardProvider(), resource_name, args.to_props(), opts)
