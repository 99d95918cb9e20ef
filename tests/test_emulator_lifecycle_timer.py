"""On the system clock the emulator applies timed changes when they fall due, unasked."""

from __future__ import annotations

from typing import Any

from emulator_helpers import PLAYERS, EventReceiver

from gamelift_emulator import Emulator, EmulatorControl
from testkit.seeding import seed_configuration


def test_a_stopped_ticket_is_cancelled_on_time_without_another_call(
    emulator: Emulator, gamelift: Any, control: EmulatorControl
) -> None:
    """After StopMatchmaking, MatchmakingCancelled reaches the webhook with no call after it."""
    seed_configuration(gamelift, "cfg", flex_match_mode="STANDALONE")  # 2 a side: never matches
    with EventReceiver() as receiver:
        control.webhook(receiver.url)
        try:
            gamelift.start_matchmaking(TicketId="lonely", ConfigurationName="cfg", Players=PLAYERS)
            searching = receiver.wait_for_type("MatchmakingSearching")
            gamelift.stop_matchmaking(TicketId="lonely")
            cancelled = receiver.wait_for_type("MatchmakingCancelled")
            calls = control.calls()
        finally:
            control.webhook(None)
    assert [t["ticketId"] for t in searching["detail"]["tickets"]] == ["lonely"]
    assert [t["ticketId"] for t in cancelled["detail"]["tickets"]] == ["lonely"]
    assert calls["StopMatchmaking"] == 1
    assert "DescribeMatchmaking" not in calls  # nothing asked: the timer applied both changes


def test_the_manual_clock_still_moves_only_when_told(
    manual_emulator: Emulator, make_gamelift: Any
) -> None:
    """On a ManualClock no timer runs: a ticket stays QUEUED until the clock is advanced."""
    gamelift = make_gamelift(manual_emulator.endpoint_url)
    seed_configuration(gamelift, "cfg", flex_match_mode="STANDALONE")
    gamelift.start_matchmaking(TicketId="t", ConfigurationName="cfg", Players=PLAYERS)
    assert manual_emulator.store.next_due() is not None  # a change is scheduled...
    assert manual_emulator.control.events() == []  # ...and not applied by any timer
    manual_emulator.control.request("POST", "/clock/advance", {"seconds": 1.0})
    (ticket,) = gamelift.describe_matchmaking(TicketIds=["t"])["TicketList"]
    assert ticket["Status"] == "SEARCHING"
