"""The one declaration of each resource: every property, in every front end's spelling.

Each property is declared once, below, with its snake_case name (Python programs, the core,
a dynamic resource's state), its type, whether it is an input, required, secret, its
default, whether a change replaces the resource, the command line's option where the CLI
takes it, and its description. Everything else is derived from these declarations:

- the native plugin's package schema (``native/schema.py``) and its camelCase names;
- the dynamic resources' key sets (``INPUT_NAMES``, ``OUTPUT_NAMES``, ``REPLACE_KEYS``,
  ``DEFAULTS``, in ``behaviour/``), their Args classes, docstrings and output types
  (``dynamic.py``);
- the names the native plugin rewrites into camelCase in messages (``native/wire.py``);
- the command line's option names (``cli.OPTION_NAMES``) and ``drain``'s own options;
- the reference tables of both front ends (``reference.py``);
- the type tokens the doctor recognises (``doctor/model.py``).

A description names other properties as ``{snake_name}``, and what differs per front end
(the provider-wide settings, a deadline override, import) by the placeholders of ``WORDS``:
:meth:`Spelling.render` writes them as the front end that shows the text says them, so
the native schema says `ticketId` and the provider's `region` where a Python docstring
says `ticket_id` and the stack config. This module imports nothing of Pulumi and nothing
of the front ends (only the core's two defaults).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from gamelift_backfill.core.tickets import DEFAULT_MAX_CONCURRENCY, DEFAULT_STOP_TIMEOUT_SECONDS

PACKAGE = "gamelift-backfill"
DYNAMIC_MODULE = "gamelift"  # `Resource(module="gamelift", ...)`: pulumi-python:dynamic/gamelift:X

PropertyType = Literal["string", "integer", "boolean", "string[]", "object[]"]
Default = int | bool | None


def camel(name: str) -> str:
    """``fleet_ids`` -> ``fleetIds``."""
    head, _, rest = name.partition("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest.split("_") if part)


@dataclass(frozen=True)
class Property:
    """One property of a resource (or of the provider's configuration)."""

    name: str  # snake_case
    type: PropertyType
    description: str  # may name properties as {snake_name}; see Spelling.render
    input: bool = True  # False: an output only
    required: bool = False
    secret: bool = False
    default: Default = None  # what an input left out means (stored as such)
    replaces: bool = False  # a change replaces the resource instead of updating it
    option: str | None = None  # the command line's option for it, where the CLI takes it
    resolved: bool = False  # every stored state has a value (given, derived or read at create)

    @property
    def camel(self) -> str:
        """The name in every Pulumi language but Python (native schema, YAML, TypeScript)."""
        return camel(self.name)


@dataclass(frozen=True)
class ResourceDeclaration:
    """A resource: its name, what it is for, its properties, and how a replacement runs."""

    name: str  # "BackfillTicket"
    description: str
    properties: tuple[Property, ...]
    delete_before_replace: bool

    @property
    def token(self) -> str:
        """The native plugin's type token (**contract**)."""
        return f"{PACKAGE}:index:{self.name}"

    @property
    def dynamic_token(self) -> str:
        """The type token of the dynamic resource (what `pulumi stack` shows)."""
        return f"pulumi-python:dynamic/{DYNAMIC_MODULE}:{self.name}"

    @property
    def inputs(self) -> tuple[Property, ...]:
        return tuple(p for p in self.properties if p.input)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        """Outputs only (every input is an output too: stored back as resolved)."""
        return tuple(p.name for p in self.properties if not p.input)

    @property
    def replace_keys(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.inputs if p.replaces)

    @property
    def defaults(self) -> dict[str, Default]:
        return {p.name: p.default for p in self.inputs if p.default is not None}

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.properties if p.secret)

    def property(self, name: str) -> Property:
        """The property called ``name`` (snake_case)."""
        for prop in self.properties:
            if prop.name == name:
                return prop
        raise KeyError(name)


@dataclass(frozen=True)
class Spelling:
    """How one front end writes property names and the provider-wide settings."""

    front_end: str
    name: Callable[[Property], str]
    words: Mapping[str, str]  # {placeholder: this front end's words}, see WORDS

    def __post_init__(self) -> None:
        if set(self.words) != set(WORDS):
            raise ValueError(f"{self.front_end}: words for exactly {WORDS}")

    def render(self, text: str, properties: tuple[Property, ...]) -> str:
        """``text`` with ``{snake_name}`` and the placeholders of WORDS written this front
        end's way."""
        names = {p.name: self.name(p) for p in properties}
        return text.format(**names, **self.words)

    def describe(self, prop: Property, properties: tuple[Property, ...]) -> str:
        """A property's description with what its flags mean for a user appended."""
        notes = []
        if prop.default is not None:
            default = str(prop.default).lower() if isinstance(prop.default, bool) else prop.default
            notes.append(f"Default: {default}.")
        if prop.input and prop.replaces:
            notes.append("A change replaces the resource.")
        return " ".join([self.render(prop.description, properties), *notes])


# The placeholders a description may use besides property names.
WORDS = ("provider_region", "provider_endpoint", "deadline_override", "import_hint")
NATIVE_SPELLING = Spelling(
    "native",
    lambda p: p.camel,
    {
        "provider_region": "the provider's `region` (`gamelift-backfill:region`)",
        "provider_endpoint": "the provider's `endpointUrl` (`gamelift-backfill:endpointUrl`)",
        "deadline_override": " A resource's `customTimeouts.delete`, when set, bounds the wait "
        "instead.",
        "import_hint": f", or `pulumi import {PACKAGE}:index:BackfillTicket NAME TICKET_ID`",
    },
)
DYNAMIC_SPELLING = Spelling(
    "dynamic",
    lambda p: p.name,
    {
        "provider_region": "the stack config `gamelift-backfill:region`, then `aws:region`",
        "provider_endpoint": "the stack config `gamelift-backfill:endpointUrl`",
        # The engine passes no customTimeouts to a dynamic provider, and its import cannot
        # reach one (DESIGN.md): adopting by `ticket_id` is the way in.
        "deadline_override": "",
        "import_hint": "",
    },
)
CLI_SPELLING = Spelling(
    "cli",
    lambda p: p.option or p.name.upper(),
    {
        "provider_region": "AWS_REGION",
        "provider_endpoint": "AWS_ENDPOINT_URL_GAMELIFT",
        "deadline_override": "",
        "import_hint": "",
    },
)

# -- the properties both resources share --------------------------------------------------

REGION = Property(
    "region",
    "string",
    "AWS region of the GameLift resources. Defaults to {provider_region}, then AWS_REGION / "
    "the AWS profile's region. Resolved at create and stored, so destroy talks to the same "
    "region from any machine.",
    replaces=True,
    option="--region",
    resolved=True,
)
ENDPOINT_URL = Property(
    "endpoint_url",
    "string",
    "GameLift endpoint: `https://...`, or `http://` to a loopback host (the local emulator). "
    "Defaults to {provider_endpoint}, then AWS_ENDPOINT_URL_GAMELIFT / AWS_ENDPOINT_URL (the "
    "same rule applies to them), then AWS itself. Stored at create; a change updates in "
    "place, with no API call.",
    option="--endpoint-url",
)
STOP_TIMEOUT = Property(
    "stop_timeout_seconds",
    "integer",
    "How long a delete waits for the tickets to end after StopMatchmaking (1 to 86400 "
    "seconds).{deadline_override}",
    default=int(DEFAULT_STOP_TIMEOUT_SECONDS),
    option="--timeout",
)

TICKET = ResourceDeclaration(
    "BackfillTicket",
    "One FlexMatch backfill ticket. Create starts a backfill (StartMatchBackfill) or adopts "
    "an existing ticket (`{ticket_id}` alone{import_hint}); delete calls StopMatchmaking and "
    "waits until the ticket has ended.",
    (
        Property(
            "configuration_name",
            "string",
            "Matchmaking configuration (name or ARN) the backfill runs against. Required to "
            "start a backfill; optional when adopting.",
            replaces=True,
        ),
        Property(
            "game_session_arn",
            "string",
            "Game session to backfill. When `{players}` is omitted, the players are taken "
            "from this session's MatchmakerData.",
            replaces=True,
        ),
        Property(
            "players",
            "object[]",
            "GameLift Player objects (PlayerId, PlayerAttributes with S/N/SL/SDM, Team, "
            "LatencyInMs) now in the session. Secret: player IDs never appear in state or "
            "logs in clear.",
            secret=True,
            replaces=True,
        ),
        Property(
            "ticket_id",
            "string",
            "ID of the ticket to start or, alone, of an existing ticket to adopt. When "
            "omitted, derived from the stack, the resource name and the inputs, so a create "
            "retried after a crash adopts the ticket it started.",
            replaces=True,
            resolved=True,
        ),
        REGION,
        ENDPOINT_URL,
        STOP_TIMEOUT,
        Property(
            "status",
            "string",
            "The ticket's status when last read (`pulumi refresh` reads it live).",
            input=False,
            resolved=True,
        ),
        Property(
            "status_reason", "string", "GameLift's reason for the status, if any.", input=False
        ),
        Property(
            "configuration_arn",
            "string",
            "ARN of the matchmaking configuration the ticket belongs to.",
            input=False,
        ),
        Property("start_time", "string", "When the ticket started (ISO 8601).", input=False),
    ),
    # GameLift keeps one active backfill per game session: the old ticket stops first.
    delete_before_replace=True,
)

GUARD = ResourceDeclaration(
    "BackfillGuard",
    "Drains FlexMatch backfill on delete: finds every active backfill ticket of the game "
    "sessions on the given fleets (automatic ones included), stops them all and waits until "
    "none is active. Make it depend on the fleets and the matchmaking configuration it "
    "protects, so the engine deletes it, and drains, before them.",
    (
        Property(
            "fleet_ids",
            "string[]",
            "Fleets whose game sessions' backfill is drained: fleet IDs, fleet ARNs or alias "
            "IDs. At least one; every location of a fleet is covered.",
            required=True,
            option="--fleet-id",
        ),
        Property(
            "configuration_name",
            "string",
            "Only drain sessions whose MatchmakerData names this configuration (name or ARN); "
            "sessions of other configurations keep their backfill.",
            option="--configuration-name",
        ),
        Property(
            "ticket_ids",
            "string[]",
            "Extra tickets to stop, e.g. manual backfills started outside this stack.",
            option="--ticket-id",
        ),
        REGION,
        ENDPOINT_URL,
        STOP_TIMEOUT,
        Property(
            "max_concurrency",
            "integer",
            "How many StopMatchmaking calls run at once during the drain (1 to 100).",
            default=DEFAULT_MAX_CONCURRENCY,
            option="--max-concurrency",
        ),
        Property(
            "disable_automatic_backfill",
            "boolean",
            "Before draining (a guard drains on delete), set the matchmaking configuration "
            "named by `{configuration_name}` to BackfillMode MANUAL "
            "(UpdateMatchmakingConfiguration), so GameLift starts no new automatic backfill "
            "ticket while the drain runs or after it. This changes a configuration that may "
            "belong to others: every game session of it loses automatic backfill, not only "
            "those on these fleets. Set it when the configuration is being deleted as well "
            "(in a stack: a resource of the same stack that the guard depends on), so nothing "
            "else relies on it. Needs `{configuration_name}`; the IAM policy then needs "
            "gamelift:UpdateMatchmakingConfiguration. A configuration already gone is no error.",
            default=False,
            option="--disable-automatic-backfill",
        ),
        Property(
            "active_ticket_count",
            "integer",
            "Active backfill tickets on the fleets when last created, updated or refreshed.",
            input=False,
            resolved=True,
        ),
    ),
    delete_before_replace=False,
)

RESOURCES: tuple[ResourceDeclaration, ...] = (TICKET, GUARD)

PROVIDER_DESCRIPTION = (
    "Provider settings that every resource of this provider uses unless it sets its own."
)
# The native provider's own configuration (`gamelift-backfill:region`, ...).
CONFIG: tuple[Property, ...] = (
    Property(
        "region",
        "string",
        "Default AWS region for the resources (`gamelift-backfill:region`), as `aws:region` "
        "is for pulumi-aws. Falls back to AWS_REGION / the AWS profile's region.",
    ),
    Property(
        "endpoint_url",
        "string",
        "Default GameLift endpoint (`gamelift-backfill:endpointUrl`): `https://...`, or "
        "`http://` to a loopback host. Falls back to AWS_ENDPOINT_URL_GAMELIFT / "
        "AWS_ENDPOINT_URL.",
    ),
)


def snake_names(resources: tuple[ResourceDeclaration, ...] = RESOURCES) -> tuple[str, ...]:
    """Every property name with an underscore, longest first (a message rewriter's list)."""
    names = {p.name for r in resources for p in r.properties if "_" in p.name}
    names |= {p.name for p in CONFIG if "_" in p.name}
    return tuple(sorted(names, key=lambda n: (-len(n), n)))


def option_names(resources: tuple[ResourceDeclaration, ...] = RESOURCES) -> dict[str, str]:
    """snake_case name -> the command line's option, for every property the CLI takes."""
    return {p.name: p.option for r in resources for p in r.inputs if p.option}
