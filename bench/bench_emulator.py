"""The emulator's calls/s, as a ratio to a bare standard-library keep-alive responder.

One boto3 client configuration, sequential StopMatchmaking calls on loopback keep-alive,
against two servers in their own processes, in alternating rounds of the same run:

* the emulator (``python -m gamelift_emulator``): SigV4 verified, input validated
  against botocore's model, the state machine run (real tickets, started beforehand,
  each stopped once: 200 ``{}``);
* the baseline (``python -m bench.bare_responder``): ``http.server`` answering
  ``200 {}`` to anything, doing none of that work.

Short rounds alternate so that both servers see the same load of a shared machine. The
ratio (median over rounds of emulator calls/s / baseline calls/s) is the figure:
at least 1.0 means the emulator is never the bottleneck of a benchmark. Absolute
calls/s depend on the machine and its load; the ratio much less. Also printed: each
server's CPU time per call (from /proc), and, with ``--slow-connections N``, how long
one boto3 call took while N idle or half-sent connections were open.

``--decompose`` adds two servers to the same rounds, to show where the emulator's time
goes: its HTTP layer alone (``bench/http_layer.py``: the same uvicorn configuration and
bounds, answering ``200 {}`` without the GameLift work), and a uvloop + httptools
protocol answering constant bytes (``bench/constant_responder.py``: what is left when
only parsing runs in Python).

    python -m bench.bench_emulator [--calls 300] [--rounds 10] [--slow-connections 1000]
        [--mode seeded|unknown] [--in-process] [--pin-cpus] [--decompose]

``unknown`` stops IDs the emulator never saw (NotFoundException); ``--in-process``
runs the emulator in this process (no ratio then: it would share the client's GIL).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.config

from gamelift_emulator import Emulator, EmulatorControl
from gamelift_emulator.launcher import ROOT, launched
from testkit.seeding import RULE_SET_BODY, seed_configuration

BARE = "bench.bare_responder"
# --decompose: (label, module) of the servers that show where the emulator's time goes.
DECOMPOSITION = (
    ("the emulator's HTTP layer alone", "bench.http_layer"),
    ("a constant answer on uvloop + httptools", "bench.constant_responder"),
)


@contextlib.contextmanager
def serving(module: str) -> Iterator[tuple[str, int]]:
    """Run ``python -m module`` (it prints its URL first); yield (URL, pid)."""
    command = [sys.executable, "-m", module]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip(), process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
    """A STANDALONE configuration and ``count`` tickets that stay SEARCHING.

    Each ticket has a player of its own (a player in a newer ticket cancels the older), and
    the rule set's skill floor is above every player's skill, so no match ever forms.
    """
    rules = json.loads(RULE_SET_BODY)
    rules["rules"].append(
        {
            "name": "SkillFloor",
            "type": "comparison",
            "measurements": ["flatten(teams[*].players.attributes[skill])"],
            "referenceValue": 1000,
            "operation": ">=",
        }
    )
    gamelift.create_matchmaking_rule_set(Name="bench", RuleSetBody=json.dumps(rules))
    seed_configuration(
        gamelift, "bench", timeout_seconds=43200, rule_set="bench", flex_match_mode="STANDALONE"
    )
    return [
        gamelift.start_matchmaking(
            ConfigurationName="bench",
            Players=[{"PlayerId": f"p{i}", "PlayerAttributes": {"skill": {"N": 10}}}],
        )["MatchmakingTicket"]["TicketId"]
        for i in range(count)
    ]


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) of process ``pid`` so far; 0 where /proc is missing."""
    stat = Path(f"/proc/{pid}/stat")
    if pid is None or not stat.exists():
        return 0.0
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_stops(gamelift: Any, ids: list[str], pid: int | None) -> tuple[float, float]:
    """Stop every ticket in ``ids``: (calls/s, server CPU microseconds per call)."""
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    for ticket_id in ids:
        with contextlib.suppress(gamelift.exceptions.NotFoundException):
            gamelift.stop_matchmaking(TicketId=ticket_id)
    elapsed = time.perf_counter() - started
    return len(ids) / elapsed, (cpu_seconds(pid) - cpu_before) / len(ids) * 1e6


def slow_call_seconds(url: str, connections: int) -> float:
    """Seconds one boto3 call takes while ``connections`` slow connections are open.

    Half of them send nothing, half send a request's head and stop.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
    sockets = []
    try:
        for index in range(connections):
            sock = socket.create_connection(address, timeout=30)
            if index % 2:
                sock.sendall(head)
            sockets.append(sock)
        control = EmulatorControl(url)
        control.health()  # every connection accepted before the clock starts
        gamelift = client(url)
        started = time.perf_counter()
        gamelift.describe_matchmaking(TicketIds=["slow-connections"])
        return time.perf_counter() - started
    finally:
        for sock in sockets:
            sock.close()


def run(
    calls: int, rounds: int, mode: str, pin: bool = False, decompose: bool = False
) -> dict[str, Any]:
    """Alternate rounds of the emulator, the baseline (and the --decompose servers);
    return every figure: per server, calls/s and CPU us per call of each round, and the
    per-round ratios to the baseline."""
    others = [("bare", BARE), *((module, module) for _, module in DECOMPOSITION if decompose)]
    with launched() as running, contextlib.ExitStack() as stack:
        servers = {"emulator": (running.endpoint_url, running.pid)}
        servers |= {name: stack.enter_context(serving(module)) for name, module in others}
        if pin:  # the same for every server: client on CPU 0, servers on CPU 1
            os.sched_setaffinity(0, {0})
            for _, pid in servers.values():
                os.sched_setaffinity(pid, {1})
        clients = {name: (client(url), pid) for name, (url, pid) in servers.items()}
        emulator = clients["emulator"][0]
        if mode == "seeded":
            ids = seed_tickets(emulator, calls * rounds)
        else:
            ids = [f"unknown-{i}" for i in range(calls * rounds)]
        for gamelift, _ in clients.values():
            gamelift.describe_matchmaking(TicketIds=["warm-up"])
        control = EmulatorControl(running.endpoint_url)
        before = control.calls().get("StopMatchmaking", 0)
        rates: dict[str, list[float]] = {name: [] for name in servers}
        cpu: dict[str, list[float]] = {name: [] for name in servers}
        for index in range(rounds):
            batch = ids[index * calls : (index + 1) * calls]
            for name, (gamelift, pid) in clients.items():
                rate, used = timed_stops(gamelift, batch, pid)
                rates[name].append(rate)
                cpu[name].append(used)
        counted = control.calls().get("StopMatchmaking", 0) - before
        assert counted == calls * rounds, f"emulator counted {counted}, sent {calls * rounds}"
    ratios = {
        name: [r / b for r, b in zip(rates[name], rates["bare"], strict=True)] for name in rates
    }
    return {"rates": rates, "cpu": cpu, "ratios": ratios}


def _row(label: str, name: str, result: dict[str, Any]) -> str:
    """One server's line: median calls/s, ratio to the baseline with its rounds, CPU."""
    ratios = result["ratios"][name]
    rounds = ", ".join(f"{r:.2f}" for r in ratios)
    return (
        f"{label}: {statistics.median(result['rates'][name]):.0f} calls/s, ratio "
        f"{statistics.median(ratios):.2f} (rounds: {rounds}), server CPU per call "
        f"{statistics.median(result['cpu'][name]):.0f} us"
    )


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per round and server")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds")
    parser.add_argument("--mode", choices=["seeded", "unknown"], default="seeded")
    parser.add_argument("--slow-connections", type=int, default=0, metavar="N")
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument(
        "--decompose",
        action="store_true",
        help="also the emulator's HTTP layer alone and a constant answer, in the same rounds",
    )
    parser.add_argument(
        "--pin-cpus",
        action="store_true",
        help="client on CPU 0, every server on CPU 1 (Linux; the default lets the OS place them)",
    )
    args = parser.parse_args()
    if args.in_process:
        with emulator_url(in_process=True) as url:
            gamelift = client(url)
            ids = seed_tickets(gamelift, args.calls) if args.mode == "seeded" else []
            ids = ids or [f"unknown-{i}" for i in range(args.calls)]
            rate, _ = timed_stops(gamelift, ids, None)
        print(
            f"StopMatchmaking ({args.mode}, in-process emulator): {args.calls} sequential calls, "
            f"{rate:.0f} calls/s"
        )
        return
    result = run(args.calls, args.rounds, args.mode, pin=args.pin_cpus, decompose=args.decompose)
    rates, cpu, ratios = result["rates"], result["cpu"], result["ratios"]
    emulator_rate = statistics.median(rates["emulator"])
    print(
        f"StopMatchmaking ({args.mode}, emulator in its own process): {args.calls} sequential "
        f"calls, {emulator_rate:.0f} calls/s (median of {args.rounds} rounds)"
    )
    print(f"bare responder, same client, same run: {statistics.median(rates['bare']):.0f} calls/s")
    rounds = ", ".join(f"{r:.2f}" for r in ratios["emulator"])
    print(
        f"ratio emulator / bare responder: {statistics.median(ratios['emulator']):.2f} "
        f"(rounds: {rounds})"
    )
    print(
        f"server CPU per call: emulator {statistics.median(cpu['emulator']):.0f} us, "
        f"bare responder {statistics.median(cpu['bare']):.0f} us"
    )
    for label, module in DECOMPOSITION if args.decompose else ():
        print(_row(f"{label} ({module})", module, result))
    if args.slow_connections:
        with launched() as running:
            seconds = slow_call_seconds(running.endpoint_url, args.slow_connections)
        print(
            f"with {args.slow_connections} idle or half-sent connections open: "
            f"one boto3 call answered in {seconds * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
