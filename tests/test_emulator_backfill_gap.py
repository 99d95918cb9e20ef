"""The gap before a replacement automatic backfill ticket (``auto_backfill_delay_ms`` and
``auto_backfill_delay_jitter_ms``), StopMatchmaking turning automatic backfill off for good,
and BackfillMode MANUAL stopping new automatic tickets: on a ManualClock, no sleeps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from emulator_helpers import EventReceiver

from gamelift_emulator import Emulator, EmulatorControl, EmulatorControlError
from gamelift_emulator.__main__ import main
from gamelift_emulator.clock import ManualClock
from gamelift_emulator.exceptions import InvalidRequestException
from gamelift_emulator.launcher import launched
from gamelift_emulator.models import BackendStore, EmulatorSettings, GameLiftBackend
from testkit.seeding import seed_configuration

ACCOUNT = "123456789012"
REGION = "us-east-1"
TIMEOUT = 60
DELAY_S = 5.0
# One or two a side, no rules: a seeded 1v1 session has room, and a newcomer backfills it.
GROWING = {
    "name": "growing",
    "ruleLanguageVersion": "1.0",
    "playerAttributes": [{"name": "skill", "type": "number", "default": 10}],
    "teams": [
        {"name": "red", "minPlayers": 1, "maxPlayers": 2},
        {"name": "blue", "minPlayers": 1, "maxPlayers": 2},
    ],
}


@dataclass
class World:
    """A backend on a ManualClock with fleet-1 behind a queue and an AUTOMATIC ``cfg``."""

    store: BackendStore
    backend: GameLiftBackend
    clock: ManualClock

    def session(self, players: int = 2, max_players: int = 4) -> tuple[str, str]:
        """A seeded matchmade session: its ARN and its first automatic ticket."""
        session = self.backend.seed_game_session("fleet-1", "cfg", players, max_players)
        return str(session["GameSessionId"]), str(session["auto_backfill_ticket_id"])

    def auto_ticket(self, arn: str) -> str | None:
        """The ticket MatchmakerData's ``autoBackfillTicketId`` names."""
        (session,) = self.backend.describe_game_sessions(GameSessionId=arn)["GameSessions"]
        value = json.loads(session["MatchmakerData"])["autoBackfillTicketId"]
        return None if value is None else str(value)

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        (found,) = self.backend.describe_matchmaking(TicketIds=[ticket_id])["TicketList"]
        return dict(found)

    def automatic(self) -> list[tuple[str, str]]:
        """Every automatic ticket still visible: (ticket ID, status), oldest first."""
        return [(t["TicketId"], t["Status"]) for t in self.backend.list_tickets() if t["Automatic"]]

    def backfill_mode(self, mode: str) -> None:
        self.backend.update_matchmaking_configuration(Name="cfg", BackfillMode=mode)


def make_world(**settings: float) -> World:
    """A fresh world whose settings (``seed`` included) are in force before its backend."""
    clock = ManualClock()
    store = BackendStore(clock)
    store.update_settings(settings)
    backend = store.backend(ACCOUNT, REGION)
    fleet = backend.seed_fleet("fleet-1")
    backend.create_matchmaking_rule_set(Name="growing", RuleSetBody=json.dumps(GROWING))
    queue = backend.create_game_session_queue(
        Name="queue", Destinations=[{"DestinationArn": fleet["fleet_arn"]}]
    )["GameSessionQueue"]
    backend.create_matchmaking_configuration(
        Name="cfg",
        RequestTimeoutSeconds=TIMEOUT,
        AcceptanceRequired=False,
        RuleSetName="growing",
        GameSessionQueueArns=[queue["GameSessionQueueArn"]],
        BackfillMode="AUTOMATIC",
    )
    return World(store, backend, clock)


# ------------------------------------------------------------------ the delay


def test_without_a_delay_the_replacement_starts_the_moment_its_ticket_ends() -> None:
    """By default (delay 0) a timed-out automatic ticket is replaced at once, as before."""
    defaults = EmulatorSettings()
    assert (defaults.auto_backfill_delay_ms, defaults.auto_backfill_delay_jitter_ms) == (0, 0)
    world = make_world()
    arn, first = world.session()
    world.clock.advance(TIMEOUT)
    second = world.auto_ticket(arn)
    assert second not in (None, first)
    assert world.ticket(first)["Status"] == "TIMED_OUT"
    assert world.ticket(str(second))["StartTime"] == world.ticket(first)["EndTime"]


@pytest.mark.parametrize("ending", ["TIMED_OUT", "FAILED", "COMPLETED"])
def test_a_fixed_delay_holds_the_replacement_back_until_the_clock_reaches_it(ending: str) -> None:
    """With a 5 s delay, the replacement of a ticket that ended on its own appears exactly
    5 s later, not before, and MatchmakerData names it from then on."""
    world = make_world(auto_backfill_delay_ms=DELAY_S * 1000)
    arn, first = world.session()
    world.clock.advance(1.0)
    world.backend.force_ticket_status(first, ending)
    ended = world.ticket(first)["EndTime"]
    assert world.store.next_due() == ended + DELAY_S  # what the system clock's timer wakes for
    world.clock.advance(DELAY_S - 0.5)
    assert world.automatic() == [(first, ending)]
    assert world.auto_ticket(arn) == first  # still the ended one during the gap
    world.clock.advance(0.5)
    second = world.auto_ticket(arn)
    assert second not in (None, first)
    assert world.automatic() == [(first, ending), (str(second), "QUEUED")]
    assert world.ticket(str(second))["StartTime"] == ended + DELAY_S


def test_a_backfill_match_is_followed_by_the_next_ticket_only_after_the_delay() -> None:
    """After the automatic ticket COMPLETES by matching a newcomer in, the session (still
    not full) gets its next automatic ticket after the delay."""
    world = make_world(auto_backfill_delay_ms=DELAY_S * 1000)
    arn, first = world.session(players=2, max_players=4)
    world.backend.start_matchmaking(
        TicketId="late",
        ConfigurationName="cfg",
        Players=[{"PlayerId": "carol", "PlayerAttributes": {"skill": {"N": 10}}}],
    )
    world.clock.advance(1.0)
    assert world.ticket("late")["Status"] == "COMPLETED"
    assert world.automatic() == [(first, "COMPLETED")]
    ended = world.ticket(first)["EndTime"]
    world.clock.set(ended + DELAY_S - 0.25)
    assert world.automatic() == [(first, "COMPLETED")]
    world.clock.set(ended + DELAY_S)
    second = world.auto_ticket(arn)
    assert second not in (None, first)
    assert world.ticket(str(second))["StartTime"] == ended + DELAY_S
    assert len(world.ticket(str(second))["Players"]) == 3  # the newcomer is in the session


def _random_delays(seed: int, sessions: int = 20) -> list[float]:
    """Delays (s) of the replacements of ``sessions`` tickets timing out together."""
    world = make_world(
        auto_backfill_delay_ms=1000, auto_backfill_delay_jitter_ms=4000, seed=float(seed)
    )
    firsts = [world.session() for _ in range(sessions)]
    world.clock.advance(TIMEOUT)
    ended = world.clock.now()
    world.clock.advance(5.0)  # the upper bound: every replacement has started
    seconds = [world.auto_ticket(arn) for arn, _ in firsts]
    assert all(s is not None and s != first for s, (_, first) in zip(seconds, firsts, strict=True))
    return [world.ticket(str(s))["StartTime"] - ended for s in seconds]


def test_seeded_random_delays_repeat_for_the_same_seed_and_stay_within_bounds() -> None:
    """With a jitter, replacement delays are random within [delay, delay + jitter], and
    the same seed gives the same delays again (another seed, others)."""
    delays = _random_delays(seed=7)
    assert _random_delays(seed=7) == delays
    assert _random_delays(seed=8) != delays
    assert len(set(delays)) > 1
    assert all(1.0 - 1e-6 <= d <= 5.0 + 1e-6 for d in delays)


# ------------------------------------------------- what turns backfill off


def test_stopping_the_automatic_ticket_means_no_replacement_ever() -> None:
    """StopMatchmaking of the automatic ticket: no replacement, not after the delay, not
    after a later manual backfill of the session times out."""
    world = make_world(auto_backfill_delay_ms=DELAY_S * 1000)
    arn, first = world.session()
    world.backend.stop_matchmaking(TicketId=first)
    world.clock.advance(DELAY_S * 4)
    assert world.automatic() == [(first, "CANCELLED")]
    world.backend.start_match_backfill(
        TicketId="manual",
        ConfigurationName="cfg",
        GameSessionArn=arn,
        Players=[{"PlayerId": "p1", "PlayerAttributes": {"skill": {"N": 10}}}],
    )
    world.clock.advance(TIMEOUT + DELAY_S * 4)
    assert world.ticket("manual")["Status"] == "TIMED_OUT"
    assert world.automatic() == [(first, "CANCELLED")]
    assert world.auto_ticket(arn) == first


def test_stopping_a_replacement_that_appeared_after_the_gap_ends_backfill_for_good() -> None:
    """A replacement that appeared after the gap, once stopped, is never replaced."""
    world = make_world(auto_backfill_delay_ms=DELAY_S * 1000)
    arn, first = world.session()
    world.clock.advance(TIMEOUT + DELAY_S)
    second = world.auto_ticket(arn)
    assert second not in (None, first)
    world.backend.stop_matchmaking(TicketId=str(second))
    world.clock.advance((TIMEOUT + DELAY_S) * 3)
    assert world.automatic() == [(first, "TIMED_OUT"), (str(second), "CANCELLED")]


@pytest.mark.parametrize("automatic_again_after", [1.0, DELAY_S * 2])
def test_manual_mode_cancels_a_scheduled_replacement(automatic_again_after: float) -> None:
    """Switching the configuration to MANUAL during the gap: the replacement never starts,
    not even if the configuration goes back to AUTOMATIC (before or after it was due), and
    the configuration can be deleted."""
    world = make_world(auto_backfill_delay_ms=DELAY_S * 1000)
    arn, first = world.session()
    world.clock.advance(TIMEOUT)
    world.backfill_mode("MANUAL")
    world.clock.advance(automatic_again_after)
    assert world.automatic() == [(first, "TIMED_OUT")]
    world.backfill_mode("AUTOMATIC")
    world.clock.advance(DELAY_S * 2)
    assert world.automatic() == [(first, "TIMED_OUT")]
    assert world.auto_ticket(arn) == first
    world.backend.delete_matchmaking_configuration(Name="cfg")


def test_manual_mode_lets_a_running_ticket_end_but_starts_no_new_one() -> None:
    """A ticket running when the configuration turns MANUAL runs on; when it times out no
    automatic ticket replaces it (delay 0)."""
    world = make_world()
    arn, first = world.session()
    world.backfill_mode("MANUAL")
    world.clock.advance(1.0)
    assert world.automatic() == [(first, "SEARCHING")]
    world.clock.advance(TIMEOUT * 2)
    assert world.automatic() == [(first, "TIMED_OUT")]
    assert world.auto_ticket(arn) == first


# ---------------------------------------------------------- the setting itself


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("auto_backfill_delay_ms", -1),
        ("auto_backfill_delay_ms", "5"),
        ("auto_backfill_delay_ms", True),
        ("auto_backfill_delay_ms", float("inf")),
        ("auto_backfill_delay_jitter_ms", float("nan")),
        ("auto_backfill_delay_jitter_ms", 10**400),
        ("auto_backfill_delay_jitter_ms", [1]),
    ],
)
def test_a_bad_delay_is_refused_naming_the_setting(field: str, value: object) -> None:
    """A negative, non-numeric, infinite or huge delay is refused with the setting's name."""
    store = BackendStore(ManualClock())
    with pytest.raises(InvalidRequestException, match=f"'{field}' must be a finite number >= 0"):
        store.update_settings({field: value})
    assert store.settings == EmulatorSettings()


def test_the_control_api_sets_resets_and_refuses_the_delay(control: EmulatorControl) -> None:
    """POST /_emulator/settings sets the delay, answers 400 naming the field for a bad
    value, and reset puts the default back."""
    answer = control.settings(
        auto_backfill_delay_ms=2500, auto_backfill_delay_jitter_ms=500, seed=3
    )
    assert (answer["auto_backfill_delay_ms"], answer["auto_backfill_delay_jitter_ms"]) == (
        2500.0,
        500.0,
    )
    for body in ({"auto_backfill_delay_ms": -1}, {"auto_backfill_delay_jitter_ms": "soon"}):
        with pytest.raises(EmulatorControlError) as refused:
            control.request("POST", "/settings", body)
        assert refused.value.status == 400
        (field,) = body
        assert f"'{field}' must be a finite number >= 0" in refused.value.message
    assert control.request("GET", "/settings")["auto_backfill_delay_ms"] == 2500.0
    control.reset()
    settings = control.request("GET", "/settings")
    assert (settings["auto_backfill_delay_ms"], settings["auto_backfill_delay_jitter_ms"]) == (0, 0)


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--auto-backfill-delay-ms", "-5", "auto_backfill_delay_ms"),
        ("--auto-backfill-delay-jitter-ms", "soon", "auto_backfill_delay_jitter_ms"),
        ("--auto-backfill-delay-ms", "inf", "auto_backfill_delay_ms"),
        ("--seed", "nan", "seed"),
    ],
)
def test_the_command_line_refuses_a_bad_delay_naming_option_and_setting(
    option: str, value: str, field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m gamelift_emulator`` with a bad delay exits 2 naming the option and setting."""
    with pytest.raises(SystemExit) as exited:
        main([option, value])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert f"argument {option}: setting '{field}' must be a finite number >= 0" in error


def test_the_command_line_sets_the_delay_and_reset_keeps_it() -> None:
    """Delay, jitter and seed given on the command line are in force and survive a reset."""
    args = ["--auto-backfill-delay-ms", "1500", "--auto-backfill-delay-jitter-ms", "250"]
    with launched(args=[*args, "--seed", "9"]) as running:
        control = EmulatorControl(running.endpoint_url)
        control.reset()
        settings = control.request("GET", "/settings")
    assert settings["auto_backfill_delay_ms"] == 1500.0
    assert settings["auto_backfill_delay_jitter_ms"] == 250.0
    assert settings["seed"] == 9.0
    assert settings["stop_delay_ms"] == EmulatorSettings().stop_delay_ms


# ------------------------------------------------------- on the system clock


def test_on_the_system_clock_the_replacement_starts_unasked_after_the_delay(
    emulator: Emulator, gamelift: Any, control: EmulatorControl
) -> None:
    """On the system clock the replacement starts (and searches) after the delay with no
    call to wake the emulator: the lifecycle timer waits for it."""
    control.settings(auto_backfill_delay_ms=300)
    seed_configuration(gamelift, backfill_mode="AUTOMATIC")
    fleet_id = control.create_fleet()["fleet_id"]
    first = control.create_game_session(fleet_id, "cfg", 2, 4)["auto_backfill_ticket_id"]
    with EventReceiver() as receiver:
        control.webhook(receiver.url)
        try:
            control.set_ticket_status(first, "TIMED_OUT")
            searching = receiver.wait_for_event(
                lambda e: (
                    e["detail"]["type"] == "MatchmakingSearching"
                    and e["detail"]["tickets"][0]["ticketId"] != first
                ),
                "MatchmakingSearching of the replacement",
            )
            calls = control.calls()
        finally:
            control.webhook(None)
    (second,) = [t["ticketId"] for t in searching["detail"]["tickets"]]
    tickets = {t["TicketId"]: t for t in control.tickets()}
    assert tickets[second]["Automatic"]
    assert tickets[second]["StartTime"] - tickets[first]["EndTime"] == pytest.approx(0.3)
    assert "DescribeMatchmaking" not in calls
    assert "DescribeGameSessions" not in calls
