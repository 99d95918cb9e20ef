"""What every resource kind shares (lookup, paging, delete, tags), and one clock-ordered
lifecycle for sessions and tickets: the backend called directly, on a manual clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from gamelift_emulator.clock import ManualClock
from gamelift_emulator.exceptions import InvalidRequestException, NotFoundException
from gamelift_emulator.models import BackendStore, GameLiftBackend
from testkit.seeding import RULE_SET_BODY

TAGS = [{"Key": "team", "Value": "core"}]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> GameLiftBackend:
    return BackendStore(clock).backend("123456789012", "us-east-1")


@dataclass(frozen=True)
class Kind:
    """One resource kind, as its operations name it."""

    noun: str
    create: Callable[[GameLiftBackend, str], str]  # name -> ARN
    listing: str  # the List*/Describe* operation
    key: str  # its answer's member
    name: str  # an item's name member
    delete: str  # the Delete* operation
    id_member: str  # Delete*'s member naming the resource

    def list(self, backend: GameLiftBackend, **page: Any) -> dict[str, Any]:
        return dict(getattr(backend, self.listing)(**page))

    def remove(self, backend: GameLiftBackend, arn: str) -> None:
        getattr(backend, self.delete)(**{self.id_member: arn})


def _rule_set(backend: GameLiftBackend, name: str) -> str:
    made = backend.create_matchmaking_rule_set(Name=name, RuleSetBody=RULE_SET_BODY, Tags=TAGS)
    return str(made["RuleSet"]["RuleSetArn"])


def _configuration(backend: GameLiftBackend, name: str) -> str:
    if not backend.describe_matchmaking_rule_sets(Names=[])["RuleSets"]:
        backend.create_matchmaking_rule_set(Name="base", RuleSetBody=RULE_SET_BODY)
    made = backend.create_matchmaking_configuration(
        Name=name,
        RequestTimeoutSeconds=60,
        AcceptanceRequired=False,
        RuleSetName="base",
        FlexMatchMode="STANDALONE",
        Tags=TAGS,
    )
    return str(made["Configuration"]["ConfigurationArn"])


def _queue(backend: GameLiftBackend, name: str) -> str:
    made = backend.create_game_session_queue(Name=name, Tags=TAGS)
    return str(made["GameSessionQueue"]["GameSessionQueueArn"])


def _alias(backend: GameLiftBackend, name: str) -> str:
    routing = {"Type": "TERMINAL", "Message": "closed"}
    made = backend.create_alias(Name=name, RoutingStrategy=routing, Tags=TAGS)
    return str(made["Alias"]["AliasArn"])


# fmt: off
KINDS = [
    Kind("Matchmaking rule set", _rule_set, "describe_matchmaking_rule_sets", "RuleSets",
         "RuleSetName", "delete_matchmaking_rule_set", "Name"),
    Kind("Matchmaking configuration", _configuration, "describe_matchmaking_configurations",
         "Configurations", "Name", "delete_matchmaking_configuration", "Name"),
    Kind("Game session queue", _queue, "describe_game_session_queues", "GameSessionQueues",
         "Name", "delete_game_session_queue", "Name"),
    Kind("Alias", _alias, "list_aliases", "Aliases", "Name", "delete_alias", "AliasId"),
]
# fmt: on
IDS = [kind.key for kind in KINDS]


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_every_kind_pages_in_creation_order_one_by_one(
    backend: GameLiftBackend, kind: Kind
) -> None:
    """Limit 1 and NextToken walk every resource of a kind once, oldest first, even when
    one is deleted between pages."""
    names = [f"{kind.key.lower()}-{i}" for i in range(4)]
    arns = [kind.create(backend, name) for name in names]
    seen: list[str] = []
    page = kind.list(backend, Limit=1)
    while True:
        seen += [str(item[kind.name]) for item in page[kind.key]]
        if len(seen) == 2:
            kind.remove(backend, arns[1])  # already seen: the next page does not shift
        if "NextToken" not in page:
            break
        page = kind.list(backend, Limit=1, NextToken=page["NextToken"])
    assert [n for n in seen if n.startswith(kind.key.lower())] == names


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_every_kind_refuses_another_listings_token(backend: GameLiftBackend, kind: Kind) -> None:
    """A NextToken of one listing is an invalid request to any other."""
    for i in range(2):
        _queue(backend, f"q-{i}")
        _alias(backend, f"a-{i}")
    token = backend.list_fleets(Limit=1).get("NextToken") or _fleet_token(backend)
    with pytest.raises(InvalidRequestException, match="Invalid NextToken"):
        kind.list(backend, NextToken=token)


def _fleet_token(backend: GameLiftBackend) -> str:
    backend.seed_fleet("fleet-a")
    backend.seed_fleet("fleet-b")
    return str(backend.list_fleets(Limit=1)["NextToken"])


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_every_kind_deletes_with_its_tags_and_names_itself_when_missing(
    backend: GameLiftBackend, kind: Kind
) -> None:
    """Delete drops the resource and its tags (a new one of the same name has none); a
    second delete is NotFound naming the kind."""
    arn = kind.create(backend, "same")
    assert backend.list_tags_for_resource(ResourceARN=arn)["Tags"] == TAGS
    kind.remove(backend, arn)
    with pytest.raises(NotFoundException, match=f"^{kind.noun} "):
        kind.remove(backend, arn)
    with pytest.raises(NotFoundException, match=f"Resource {arn} not found"):
        backend.list_tags_for_resource(ResourceARN=arn)
    if kind.noun != "Alias":  # an alias's ID is new each time; names are IDs elsewhere
        assert kind.create(backend, "same") == arn
        backend.untag_resource(ResourceARN=arn, TagKeys=["team"])
        assert backend.list_tags_for_resource(ResourceARN=arn)["Tags"] == []


def test_timed_changes_of_sessions_and_tickets_apply_in_the_order_they_fell_due(
    backend: GameLiftBackend, clock: ManualClock
) -> None:
    """A ticket's StopMatchmaking (due in 1 s) ends it before its session's termination
    (due in 2 s) does, though both fell due before the next call."""
    backend.settings.stop_delay_ms = 1000.0
    backend.settings.session_termination_ms = 2000.0
    backend.create_matchmaking_rule_set(Name="duel", RuleSetBody=RULE_SET_BODY)
    queue = backend.create_game_session_queue(Name="q")["GameSessionQueue"]
    backend.create_matchmaking_configuration(
        Name="cfg",
        RequestTimeoutSeconds=60,
        AcceptanceRequired=False,
        RuleSetName="duel",
        GameSessionQueueArns=[queue["GameSessionQueueArn"]],
        BackfillMode="AUTOMATIC",
    )
    backend.seed_fleet("fleet-1")
    session = backend.seed_game_session("fleet-1", "cfg", 2, 4)
    ticket_id = session["auto_backfill_ticket_id"]
    start = clock.now()
    backend.stop_matchmaking(TicketId=ticket_id)
    backend.terminate_game_session(GameSessionId=session["GameSessionId"], TerminationMode="NORMAL")
    clock.advance(3.0)
    (ticket,) = backend.describe_matchmaking(TicketIds=[ticket_id])["TicketList"]
    assert (ticket["Status"], ticket["StatusMessage"]) == (
        "CANCELLED",
        "Cancelled by StopMatchmaking.",
    )
    assert ticket["EndTime"] == pytest.approx(start + 1.0)
    (ended,) = backend.describe_game_sessions(GameSessionId=session["GameSessionId"])[
        "GameSessions"
    ]
    assert ended["Status"] == "TERMINATED"
    assert ended["TerminationTime"] == pytest.approx(start + 2.0)


def test_the_store_is_indexed_by_account_then_region() -> None:
    """``store[account][region]`` is the backend ``store.backend(account, region)`` gives,
    made on first use, one per account and Region."""
    store = BackendStore(ManualClock())
    backend = store["123456789012"]["eu-west-1"]
    assert backend is store.backend("123456789012", "eu-west-1")
    assert backend.state.region == "eu-west-1"
    assert store["123456789012"]["us-east-1"] is not backend
    assert store["210987654321"]["eu-west-1"] is not backend
    assert len(store.backends()) == 3
