"""The waiter model's acceptors and the backoff (no emulator)."""

from __future__ import annotations

import itertools

import boto3
import pytest
from botocore.stub import Stubber
from botocore.waiter import create_waiter_with_client

from gamelift_backfill.core.waiters import WAITER_MODEL, WAITER_NAME, Backoff, batch_state


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


def test_botocore_runs_the_model_until_the_tickets_stopped() -> None:
    """botocore's own Waiter, built from the model, polls DescribeMatchmaking until no ticket
    is active: it returns on the answer where the last active ticket ended, not before."""
    client = boto3.session.Session().client(
        "gamelift",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    answers = [["SEARCHING", "PLACING"], ["CANCELLED", "PLACING"], ["CANCELLED", "COMPLETED"]]
    with Stubber(client) as stubber:
        for statuses in answers:
            tickets = [{"TicketId": f"t{i}", "Status": s} for i, s in enumerate(statuses)]
            stubber.add_response("describe_matchmaking", {"TicketList": tickets})
        waiter = create_waiter_with_client(WAITER_NAME, WAITER_MODEL, client)
        waiter.wait(TicketIds=["t0", "t1"], WaiterConfig={"Delay": 0, "MaxAttempts": 5})
        stubber.assert_no_pending_responses()


def test_backoff_grows_to_its_cap() -> None:
    """Delays grow exponentially from the initial delay and stop at the maximum."""
    delays = list(itertools.islice(Backoff(initial=0.5, factor=2, maximum=3).delays(), 5))
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]
