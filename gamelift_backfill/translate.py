"""The one translation layer between the front ends and the core.

The dynamic resources (``backfill_ticket.py``, ``backfill_guard.py``), the command line
(``cli.py``) and the native provider plugin (``native/``) all turn their own input into
the core's calls through this module, so each rule below is written once. It imports no
``pulumi.dynamic`` type: the only Pulumi knowledge here is what an unknown preview value
looks like.

API, in the order a front end meets it:

- **Unknowns.** :func:`is_unknown` (the SDK's ``Unknown`` or the wire sentinel string) and
  :func:`contains_unknown` (at any depth). :func:`comparable` turns a value into what a
  diff compares: ``UNKNOWN_VALUE`` (unequal to anything) for anything holding an unknown.
- **Normalisation.** :func:`given` keeps the named properties that are set (None and
  absent alike); :func:`normalise` validates them offline against the service model and
  normalises them (protobuf Structs make every number a float: whole ones become ints).
- **Configuration.** :class:`ProviderConfig` reads a stack's or a provider's configuration:
  ``gamelift-backfill:region`` / ``gamelift-backfill:endpointUrl`` (namespaced, as the
  dynamic plugin's Configure hands the whole stack config), the bare ``region`` /
  ``endpointUrl`` (a native provider's own configuration), then ``aws:region``.
- **Where calls go.** :func:`region_for` (input > configuration > AWS_REGION / profile;
  a fallback, e.g. the stored region on update, only when none gives one) and
  :func:`endpoint_for` (input > configuration > the environment's
  ``AWS_ENDPOINT_URL_GAMELIFT`` / ``AWS_ENDPOINT_URL`` / profile, the latter held to the same
  rule as the input and named as the source when it breaks it). :func:`stored_where`
  is what read and delete use: the region and endpoint stored at create, whatever this
  machine's environment says. :class:`Where` gives the process's cached client per role
  (``read``; ``stop`` with its own rate limiter), and runs the core's ``stop`` and
  ``drain`` with them.
- **Errors.** The core's errors are data (``remaining`` tickets, ``remedies``).
  :class:`Phrasebook` holds a front end's words for each remedy (``DYNAMIC`` for the dynamic
  provider, ``NATIVE`` for the native plugin, ``CLI`` for the command line), and
  :func:`phrase` sets ``error.advice`` so that ``str(error)`` ends with that front end's
  fix. :func:`failures_of` turns an error into per-field failures (with the advice) for
  Check results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from gamelift_backfill.core.clients import (
    DEFAULT_MAX_CONCURRENCY,
    Role,
    gamelift_client,
    resolve_endpoint,
    resolve_region,
)
from gamelift_backfill.core.drain import DrainReport, drain
from gamelift_backfill.core.errors import BackfillError, Failure, InputError, Remedy
from gamelift_backfill.core.tickets import OnEvent, PipelineOptions, StopReport, stop_and_wait
from gamelift_backfill.core.validation import check_endpoint_url, validate_inputs
from gamelift_backfill.declaration import PACKAGE

IsUnknown = Callable[[Any], bool]
ENDPOINT_SOURCES = "AWS_ENDPOINT_URL_GAMELIFT / AWS_ENDPOINT_URL or the AWS profile"
REGION_KEYS = (f"{PACKAGE}:region", "region", "aws:region")
ENDPOINT_KEYS = (f"{PACKAGE}:endpointUrl", "endpointUrl")


class _UnknownValue:
    """What an unknown compares as in a diff: unequal to anything, itself included."""

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return "UNKNOWN_VALUE"


UNKNOWN_VALUE: Final = _UnknownValue()


# -- unknowns ------------------------------------------------------------------------------


def is_unknown(value: Any) -> bool:
    """A value not known yet (preview): the SDK's Unknown, or the wire sentinel."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def contains_unknown(value: Any, unknown: IsUnknown = is_unknown) -> bool:
    """Whether ``value`` is, or holds at any depth, an unknown."""
    if isinstance(value, Mapping):
        return any(contains_unknown(v, unknown) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v, unknown) for v in value)
    return unknown(value)


def comparable(value: Any, unknown: IsUnknown = is_unknown) -> Any:
    """``value`` as a diff compares it: ``UNKNOWN_VALUE`` if it holds an unknown."""
    return UNKNOWN_VALUE if contains_unknown(value, unknown) else value


# -- normalisation -------------------------------------------------------------------------


def given(props: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The named properties that are set: no ``__provider``, no outputs, no None."""
    return {name: props[name] for name in names if props.get(name) is not None}


def normalise(
    inputs: Mapping[str, Any], unknown: IsUnknown = is_unknown
) -> tuple[dict[str, Any], list[Failure]]:
    """Validate offline (service model and our rules) and normalise; unknowns pass."""
    return validate_inputs(inputs, unknown)


# -- configuration and where calls go ------------------------------------------------------


@dataclass(frozen=True)
class ProviderConfig:
    """A stack's or provider's configuration, as far as where calls go is concerned."""

    region: str | None = None
    endpoint_url: str | None = None

    @classmethod
    def from_mapping(cls, config: Any) -> ProviderConfig:
        """Read from anything with ``get(key)``: a dict, or the dynamic plugin's Config."""
        return cls(_first(config, REGION_KEYS), _first(config, ENDPOINT_KEYS))


def _first(config: Any, keys: Sequence[str]) -> str | None:
    for key in keys:
        value = config.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def region_for(explicit: str | None, config: ProviderConfig, fallback: str | None = None) -> str:
    """Input > configuration > AWS_REGION / profile; ``fallback`` only if none gives one.

    Raises InputError naming ``region`` (remedy ``set_region``) when nothing gives one.
    """
    try:
        return resolve_region(explicit, config.region)
    except InputError:
        if fallback:
            return fallback
        raise


def endpoint_for(
    explicit: str | None, config: ProviderConfig, field: str = "endpoint_url"
) -> tuple[str | None, list[Failure]]:
    """Input > configuration > environment/profile; None means AWS itself.

    A value from the configuration or the environment obeys the input's rule (https, or
    http to loopback); a failure names ``field`` and where the value came from.
    """
    if explicit:
        return explicit, []
    endpoint: str | None = config.endpoint_url
    source = f"the provider configuration {PACKAGE}:endpointUrl"
    if endpoint is None:
        endpoint, source = resolve_endpoint(None), ENDPOINT_SOURCES
    if endpoint is None:
        return None, []
    problems = check_endpoint_url(endpoint, field)
    return endpoint, [Failure(f.field, f"{f.reason} (from {source})") for f in problems]


def endpoint_or_raise(
    explicit: str | None, config: ProviderConfig, field: str = "endpoint_url"
) -> str | None:
    """:func:`endpoint_for` for create/update: a broken endpoint is an InputError."""
    endpoint, failures = endpoint_for(explicit, config, field)
    if failures:
        raise InputError(failures)
    return endpoint


@dataclass(frozen=True)
class Where:
    """Where calls go; the process's clients for it are made (and cached) on first use."""

    region: str
    endpoint_url: str | None
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY

    def client(self, role: Role = "read") -> Any:
        """The cached client for reads, or for StopMatchmaking (its own rate limiter)."""
        return gamelift_client(
            self.region, self.endpoint_url, role=role, max_concurrency=self.max_concurrency
        )

    def stop(
        self, ticket_ids: Sequence[str], timeout_seconds: float, on_event: OnEvent | None = None
    ) -> StopReport:
        """The core's stop-and-wait with this place's read and stop clients."""
        return stop_and_wait(self.client(), ticket_ids, **self._options(timeout_seconds, on_event))

    def drain(
        self,
        fleet_ids: Sequence[str],
        *,
        configuration_name: str | None,
        ticket_ids: Sequence[str],
        timeout_seconds: float,
        on_event: OnEvent | None = None,
    ) -> DrainReport:
        """The core's drain with this place's read and stop clients."""
        return drain(
            self.client(),
            fleet_ids,
            configuration_name=configuration_name,
            ticket_ids=ticket_ids,
            **self._options(timeout_seconds, on_event),
        )

    def _options(self, timeout_seconds: float, on_event: OnEvent | None) -> PipelineOptions:
        options = PipelineOptions(
            stop_client=self.client("stop"),
            timeout_seconds=timeout_seconds,
            max_concurrency=self.max_concurrency,
        )
        if on_event is not None:
            options["on_event"] = on_event
        return options


def stored_where(
    props: Mapping[str, Any],
    config: ProviderConfig,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Where:
    """Where a stored resource lives: its stored region and endpoint, used as they are.

    Destroy must talk to the place create resolved, from any machine: the environment's
    endpoint is not consulted. Only state without a region (never written by create)
    falls back to the configuration and the environment.
    """
    region = region_for(props.get("region") or None, config)
    return Where(region, props.get("endpoint_url") or None, max_concurrency)


# -- errors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrasebook:
    """One front end's words for the fixes the core names as remedies."""

    kept: str  # what stays for the next attempt ('' when nothing does)
    retry: str  # how to finish the job: run what again
    timeout: str  # the setting that bounds the wait
    endpoint: str  # the setting that names the endpoint
    concurrency: str  # the setting for calls at once
    region: str  # where a region can be set
    status_command: str  # how to look at and stop one ticket by ID; {ticket} is replaced
    disable_backfill: str  # the opt-in that sets the configuration's BackfillMode MANUAL


DYNAMIC: Final = Phrasebook(
    kept="the resource stays in the stack",
    retry="run `pulumi destroy` (or the `pulumi up` that failed) again to finish",
    timeout="`stop_timeout_seconds`",
    endpoint="`endpoint_url` (AWS_ENDPOINT_URL_GAMELIFT / AWS_ENDPOINT_URL)",
    concurrency="`max_concurrency`",
    region=(
        "set the `region` input, the stack config `gamelift-backfill:region` or "
        "`aws:region`, or AWS_REGION / the profile's region"
    ),
    status_command="`gamelift-backfill status {ticket}` / `gamelift-backfill stop {ticket}`",
    disable_backfill="set the guard's `disable_automatic_backfill=True`",
)

# The native provider's users set the provider's own configuration, in camelCase; it never
# reads `aws:region` (that is another provider's key), so it never tells anyone to set it.
NATIVE: Final = Phrasebook(
    kept="the resource stays in the stack",
    retry="run `pulumi destroy` (or the `pulumi up` that failed) again to finish",
    timeout="`stopTimeoutSeconds` or the resource's `customTimeouts`",
    endpoint=(
        "`endpointUrl` (or the provider's `gamelift-backfill:endpointUrl`, "
        "AWS_ENDPOINT_URL_GAMELIFT / AWS_ENDPOINT_URL)"
    ),
    concurrency="`maxConcurrency`",
    region=(
        "set the `region` input or the provider's `gamelift-backfill:region`, or "
        "AWS_REGION / the profile's region"
    ),
    status_command="`gamelift-backfill status {ticket}` / `gamelift-backfill stop {ticket}`",
    disable_backfill="set the guard's `disableAutomaticBackfill: true`",
)

CLI: Final = Phrasebook(
    kept="",
    retry="run the same command again to finish",
    timeout="--timeout",
    endpoint="--endpoint-url (AWS_ENDPOINT_URL_GAMELIFT / AWS_ENDPOINT_URL)",
    concurrency="--max-concurrency",
    region="pass --region, or set AWS_REGION or the profile's region",
    status_command="`gamelift-backfill status {ticket}` / `gamelift-backfill stop {ticket}`",
    disable_backfill="pass --disable-automatic-backfill (with --configuration-name)",
)


# Each remedy as a sentence; {placeholders} are a Phrasebook's fields.
SENTENCES: Final[Mapping[Remedy, str]] = {
    "retry": "{kept_}{retry}.",
    "retry_later": "{kept_}wait a minute, then {retry}.",
    "raise_timeout": "If tickets need longer to end, raise {timeout}.",
    "check_endpoint": "Check the network and {endpoint}.",
    "lower_concurrency": "Lower {concurrency}.",
    "set_region": "To choose the region: {region}.",
    "check_credentials": "Check AWS credentials / AWS_PROFILE (environment, shared config or "
    "SSO) and that they are not expired.",
    "stop_remaining": "Check and stop it if it runs: {commands}.",
    "disable_backfill": "If the matchmaking configuration is being deleted too, "
    "{disable_backfill}: its BackfillMode becomes MANUAL and GameLift starts no new "
    "automatic backfill.",
}


def advice(error: BackfillError, words: Phrasebook) -> str:
    """The fix for ``error``'s remedies, in ``words``: one or more sentences, or ''."""
    maybe_started = [t.ticket_id for t in error.remaining if t.status == "UNKNOWN"]
    commands = ", ".join(words.status_command.format(ticket=t) for t in maybe_started)
    fields = {**vars(words), "commands": commands, "kept_": f"{words.kept}: " if words.kept else ""}
    sentences = (SENTENCES[remedy].format(**fields) for remedy in error.remedies)
    return " ".join(sentence[:1].upper() + sentence[1:] for sentence in sentences)


def phrase(error: BackfillError, words: Phrasebook) -> BackfillError:
    """``error`` with its fix in ``words`` (``str(error)`` now ends with it); returned
    for ``raise phrase(error, ...)``."""
    error.advice = advice(error, words)
    return error


def failures_of(error: BackfillError, field: str, words: Phrasebook) -> list[Failure]:
    """Per-field failures for a Check result: an InputError's own, else one on ``field``;
    the front end's fix is appended to the last."""
    failures = error.failures if isinstance(error, InputError) else [Failure(field, error.message)]
    fix = advice(error, words)
    if fix and failures:
        last = failures[-1]
        failures = [*failures[:-1], Failure(last.field, f"{last.reason}: {fix}")]
    return failures
