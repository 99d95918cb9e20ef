"""How many sequential StopMatchmaking calls per second one boto3 client gets.

The emulator must never be the bottleneck of a benchmark: the target is at least 800
calls/s on a 2-core machine, one client, loopback, keep-alive. The emulator runs as
``python -m gamelift_emulator`` in its own process (as in CI and the demo), so client
and server do not share a GIL; ``--in-process`` runs it in this process instead.

    python -m bench.bench_emulator [--calls 2000] [--mode seeded|unknown] [--in-process]

``seeded`` stops real tickets (started beforehand, 200 ``{}``); ``unknown`` stops
IDs the emulator never saw (NotFoundException).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config

from gamelift_emulator import Emulator, EmulatorControl
from gamelift_emulator.launcher import launched
from testkit.seeding import seed_configuration


@contextlib.contextmanager
def emulator_url(in_process: bool) -> Iterator[str]:
    """Start an emulator (subprocess by default) and yield its endpoint URL."""
    if in_process:
        with Emulator() as emulator:
            yield emulator.endpoint_url
        return
    with launched() as running:
        yield running.endpoint_url


def client(url: str) -> Any:
    """A boto3 GameLift client of ``url``, retries off."""
    return boto3.session.Session().client(
        "gamelift",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )


def seed_tickets(gamelift: Any, count: int) -> list[str]:
    """A STANDALONE configuration and ``count`` searching tickets."""
    seed_configuration(
        gamelift, "bench", timeout_seconds=43200, rule_set="bench", flex_match_mode="STANDALONE"
    )
    players = [{"PlayerId": "p", "PlayerAttributes": {"skill": {"N": 10}}}]
    return [
        gamelift.start_matchmaking(ConfigurationName="bench", Players=players)["MatchmakingTicket"][
            "TicketId"
        ]
        for _ in range(count)
    ]


def run(calls: int, mode: str, in_process: bool) -> float:
    """Measure and return calls/s."""
    with emulator_url(in_process) as url:
        gamelift = client(url)
        if mode == "seeded":
            ids = seed_tickets(gamelift, calls)
        else:
            ids = [f"unknown-{i}" for i in range(calls)]
        gamelift.describe_matchmaking(TicketIds=["warm-up"])
        started = time.perf_counter()
        for ticket_id in ids:
            with contextlib.suppress(gamelift.exceptions.NotFoundException):
                gamelift.stop_matchmaking(TicketId=ticket_id)
        elapsed = time.perf_counter() - started
        counted = EmulatorControl(url).calls().get("StopMatchmaking", 0)
        assert counted == calls, f"emulator counted {counted} calls, sent {calls}"
    return calls / elapsed


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--mode", choices=["seeded", "unknown"], default="seeded")
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    rate = run(args.calls, args.mode, args.in_process)
    where = "in-process" if args.in_process else "subprocess"
    print(
        f"StopMatchmaking ({args.mode}, {where} emulator): {args.calls} sequential calls, "
        f"{rate:.0f} calls/s"
    )


if __name__ == "__main__":
    main()
