"""BackfillGuard's behaviour, once for every front end: on delete, drain every active
backfill ticket of the fleets' game sessions.

Properties are snake_case dicts of plain values; errors are the core's, unphrased (each
front end words them), except Check's failures and the drain's failure log, which use this
:class:`Guard`'s own ``words``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gamelift_backfill.core.backfill_mode import disable_automatic_backfill
from gamelift_backfill.core.drain import DrainReport, count_active, drain
from gamelift_backfill.core.errors import BackfillError, Failure, InputError
from gamelift_backfill.core.tickets import (
    DEFAULT_STOP_TIMEOUT_SECONDS,
    ProgressEvent,
    ProgressTally,
)
from gamelift_backfill.declaration import GUARD
from gamelift_backfill.translate import (
    UNKNOWN_VALUE,
    Phrasebook,
    ProviderConfig,
    Where,
    advice,
    comparable,
    endpoint_for,
    endpoint_or_raise,
    is_unknown,
    normalise,
    region_for,
)

from .common import NO_OVERRIDE, Checked, Diffed, Log, Waiting

INPUT_NAMES = GUARD.input_names
OUTPUT_NAMES = GUARD.output_names
REPLACE_KEYS = GUARD.replace_keys
DEFAULTS: dict[str, Any] = GUARD.defaults
LIST_NAMES = tuple(p.name for p in GUARD.inputs if p.type.endswith("[]"))
BOOLEAN_NAMES = tuple(p.name for p in GUARD.inputs if p.type == "boolean")
PROGRESS_EVERY_SECONDS = 10.0


@dataclass(frozen=True)
class GuardSettings(Where):
    """A guard's inputs as resolved: what is stored, and what delete drains with
    (``client(role)`` from :class:`~gamelift_backfill.translate.Where`)."""

    fleet_ids: list[str] = field(default_factory=list)
    configuration_name: str | None = None
    ticket_ids: list[str] = field(default_factory=list)
    stop_timeout_seconds: float = DEFAULT_STOP_TIMEOUT_SECONDS
    disable_automatic_backfill: bool = False
    inputs: Mapping[str, Any] = field(default_factory=dict)  # validated, region resolved


def validated(props: Mapping[str, Any]) -> tuple[dict[str, Any], list[Failure]]:
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
    return checked, failures + more + _flag_failures(checked)


def _flag_failures(inputs: Mapping[str, Any]) -> list[Failure]:
    """Booleans are booleans; turning backfill off needs the configuration it applies to."""
    failures = [
        Failure(name, "must be true or false")
        for name in BOOLEAN_NAMES
        if not isinstance(inputs.get(name), bool) and not is_unknown(inputs.get(name))
    ]
    if inputs.get("disable_automatic_backfill") is True and not inputs.get("configuration_name"):
        failures.append(
            Failure(
                "disable_automatic_backfill",
                "needs configuration_name: the matchmaking configuration whose BackfillMode "
                "is set to MANUAL",
            )
        )
    return failures


class DrainLog:
    """Progress of a drain through the front end's log: counts and ticket IDs, never
    player IDs. Events come from the one thread that drives the drain: no lock needed."""

    def __init__(
        self,
        settings: GuardSettings,
        log: Log,
        words: Phrasebook,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.prefix = f"BackfillGuard ({', '.join(settings.fleet_ids)} in {settings.region})"
        self.log = log
        self.words = words
        self.clock = clock
        self.tally = ProgressTally()
        self.last_progress = clock()

    def on_event(self, event: ProgressEvent) -> None:
        """Count each event; log once per pass and at most every few seconds while waiting."""
        self.tally.count(event)
        if event.kind in ("stopped", "already_final"):
            self._maybe_progress()
        elif event.kind == "fleet_missing":
            self.log.warn(f"{self.prefix}: fleet {event.fleet_id} not found: nothing to drain")
        elif event.kind == "remaining":
            tally = self.tally
            self.log.info(
                f"{self.prefix}: {tally.found} active backfill ticket(s) found so far, "
                f"{tally.stopped} stopped, {tally.already_final} already final, "
                f"{event.count} remaining"
            )

    def _maybe_progress(self) -> None:
        now = self.clock()
        tally = self.tally
        if tally.pending and now - self.last_progress >= PROGRESS_EVERY_SECONDS:
            self.last_progress = now
            self.log.info(f"{self.prefix}: {tally.stopped} stopped, {len(tally.pending)} remaining")

    def done(self, report: DrainReport) -> None:
        """The summary of a drain that left nothing active."""
        self.log.info(
            f"{self.prefix}: drained: {report.found_active} active backfill ticket(s) found, "
            f"{report.stopped} stopped, {report.waited_out} waited out, "
            f"{report.already_final} already final, 0 remaining "
            f"({report.passes} pass(es), {report.sessions} game session(s))"
        )

    def failed(self, error: BackfillError) -> None:
        """Say what is left and that the guard stays in the stack for the next destroy."""
        left = f"{len(error.remaining)} ticket(s) remaining; " if error.remaining else ""
        self.log.error(
            f"{self.prefix}: drain failed ({error.code}): {left}{advice(error, self.words)}"
        )


@dataclass(frozen=True)
class Guard:
    """A BackfillGuard for one provider configuration, worded and logged by one front end."""

    config: ProviderConfig
    words: Phrasebook
    log: Log

    def check(self, news: Mapping[str, Any]) -> Checked:
        """Validate every input offline; numbers normalised, defaults filled, unknowns kept."""
        inputs, failures = validated(news)
        return Checked({**news, **inputs}, failures)

    def diff(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diffed:
        """Compare the stored outputs with the new inputs, normalised; only what the
        declaration marks as replacing (the region) replaces."""
        changed = [
            name
            for name in INPUT_NAMES
            if self._comparable(name, news, olds) != self._comparable(name, olds, olds)
        ]
        replaces = [name for name in changed if name in REPLACE_KEYS]
        return Diffed(bool(changed), replaces, GUARD.delete_before_replace)

    def create(self, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """Resolve region and endpoint, prove the fleets can be listed, count active tickets."""
        return f"backfill-guard-{uuid.uuid4()}", self._outputs(self.settings(props))

    def read(self, id_: str, props: Mapping[str, Any]) -> dict[str, Any]:
        """Refresh ``active_ticket_count`` with the stored region and endpoint."""
        if not props.get("fleet_ids"):
            raise BackfillError(
                f"cannot import BackfillGuard {id_}: a guard is not a GameLift object. "
                "Declare it in the program with the fleets it guards instead."
            )
        return self._outputs(self.settings(props, stored=True))

    def update(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        """In place (diff replaces on a region change); returns every output."""
        return self._outputs(self.settings(news, fallback_region=olds.get("region")))

    def delete(
        self, id_: str, props: Mapping[str, Any], waiting: Waiting = NO_OVERRIDE
    ) -> DrainReport:
        """Drain with the settings stored in state; a failure is logged and raised (the
        guard stays in state for the next destroy)."""
        settings = self.settings(props, stored=True)
        log = DrainLog(settings, self.log, self.words)
        progress = waiting.on_event

        def on_event(event: ProgressEvent) -> None:
            if progress is not None:
                progress(event)
            log.on_event(event)

        timeout = waiting.timeout(settings.stop_timeout_seconds, DEFAULT_STOP_TIMEOUT_SECONDS)
        options = waiting.options(timeout)
        options["on_event"] = on_event
        options["stop_client"] = settings.client("stop")
        options["max_concurrency"] = settings.max_concurrency
        try:
            self._disable_automatic_backfill(settings, log)
            report = drain(
                settings.client(),
                settings.fleet_ids,
                configuration_name=settings.configuration_name,
                ticket_ids=settings.ticket_ids,
                **options,
            )
        except BackfillError as error:
            log.failed(error)
            raise
        log.done(report)
        return report

    # -- helpers -----------------------------------------------------------------------

    def _disable_automatic_backfill(self, settings: GuardSettings, log: DrainLog) -> None:
        """The opt-in that removes the cause: the configuration to BackfillMode MANUAL, so
        GameLift starts no replacement ticket behind the drain."""
        name = settings.configuration_name
        if not (settings.disable_automatic_backfill and name):
            return
        disable_automatic_backfill(settings.client(), name)
        self.log.info(
            f"{log.prefix}: automatic backfill of configuration {name} turned off "
            "(BackfillMode MANUAL) before the drain"
        )

    def settings(
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
        inputs, failures = validated(props)
        if failures:
            raise InputError(failures)
        region = inputs.get("region")
        endpoint = inputs.get("endpoint_url")
        if not stored:
            region = region_for(region, self.config, fallback_region)
            endpoint = endpoint_or_raise(endpoint, self.config)
        region = region or region_for(None, self.config)
        return GuardSettings(
            inputs={**inputs, "region": region, "endpoint_url": endpoint},
            fleet_ids=list(inputs["fleet_ids"]),
            configuration_name=inputs.get("configuration_name"),
            ticket_ids=list(inputs.get("ticket_ids") or []),
            region=region,
            endpoint_url=endpoint,
            stop_timeout_seconds=inputs["stop_timeout_seconds"],
            max_concurrency=int(inputs["max_concurrency"]),
            disable_automatic_backfill=inputs.get("disable_automatic_backfill") is True,
        )

    def _comparable(self, name: str, props: Mapping[str, Any], olds: Mapping[str, Any]) -> Any:
        """A property as create would store it, so that equal settings compare equal."""
        value = comparable(props.get(name))
        if value is UNKNOWN_VALUE:
            return value
        if name in LIST_NAMES:
            return sorted(dict.fromkeys(value or []))  # order and repeats mean nothing
        if name == "region" and not value:
            return region_for(None, self.config, olds.get("region"))
        if name == "endpoint_url" and not value:
            return endpoint_for(None, self.config)[0]
        if name in DEFAULTS and value is None:
            return DEFAULTS[name]
        return value

    def _outputs(self, settings: GuardSettings) -> dict[str, Any]:
        """Every output: the resolved inputs plus the active tickets counted now.

        Counting lists every fleet, which is also the proof that they can be listed with
        these credentials, region and endpoint. A fleet that does not exist is logged, not
        an error.
        """
        count = count_active(
            settings.client(),
            settings.fleet_ids,
            configuration_name=settings.configuration_name,
            ticket_ids=settings.ticket_ids,
        )
        for fleet in count.missing_fleets:
            self.log.warn(
                f"BackfillGuard: fleet {fleet} not found in {settings.region}: "
                "nothing to drain there"
            )
        outputs = {name: settings.inputs.get(name) for name in INPUT_NAMES}
        outputs.update(fleet_ids=settings.fleet_ids, ticket_ids=settings.ticket_ids or None)
        outputs["active_ticket_count"] = count.active
        return outputs
