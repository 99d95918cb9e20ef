"""The waiter model's acceptors and the backoff (no emulator)."""

from __future__ import annotations

import itertools

import pytest

from gamelift_backfill.core.waiters import WAITER_CONFIG, Backoff, batch_state


@pytest.mark.parametrize(
    ("statuses", "state"),
    [
        ([], "success"),
        (["CANCELLED", "COMPLETED", "FAILED", "TIMED_OUT"], "success"),
        (["CANCELLED", "SEARCHING"], "retry"),
        (["QUEUED"], "retry"),
        (["PLACING"], "retry"),
        (["REQUIRES_ACCEPTANCE"], "retry"),
    ],
)
def test_success_only_when_no_returned_ticket_is_active(statuses: list[str], state: str) -> None:
    """The acceptors accept a batch when nothing returned is active (missing = gone)."""
    response = {"TicketList": [{"TicketId": f"t{i}", "Status": s} for i, s in enumerate(statuses)]}
    assert batch_state(response) == state


def test_model_is_botocore_waiter_data_over_describe_matchmaking() -> None:
    """The waiter is data in botocore's WaiterModel format over DescribeMatchmaking."""
    (waiter,) = WAITER_CONFIG["waiters"].values()
    assert WAITER_CONFIG["version"] == 2
    assert waiter["operation"] == "DescribeMatchmaking"


def test_backoff_grows_to_its_cap() -> None:
    """Delays grow exponentially from the initial delay and stop at the maximum."""
    delays = list(itertools.islice(Backoff(initial=0.5, factor=2, maximum=3).delays(), 5))
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]
