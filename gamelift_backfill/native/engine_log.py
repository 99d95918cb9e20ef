"""Logging through the engine's Log RPC, attached to the resource being worked on.

The resources log with ``pulumi.log`` (shared with the dynamic provider). Here the SDK's
engine client is replaced by :class:`EngineLog`, which fills in the URN of the call the
current thread serves (a context variable set per call), so the CLI shows each message
under its resource. Without an engine (or once it is gone) messages go to stderr.
"""

from __future__ import annotations

import contextvars
import sys
from typing import Any

import grpc
import pulumi.runtime.settings as settings
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

CURRENT_URN: contextvars.ContextVar[str] = contextvars.ContextVar("gamelift_backfill_urn")
LOG_TIMEOUT_SECONDS = 10.0


class EngineLog:
    """Stands in for the SDK's EngineStub: ``Log`` with the current call's URN."""

    def __init__(self, engine_address: str) -> None:
        self._channel = grpc.insecure_channel(engine_address, options=_GRPC_CHANNEL_OPTIONS)
        self._stub = engine_pb2_grpc.EngineStub(self._channel)

    def Log(self, request: engine_pb2.LogRequest) -> None:  # noqa: N802 (the stub's name)
        """Send one message; the engine is the only audience, stderr the fallback."""
        if not request.urn:
            request.urn = CURRENT_URN.get("")
        try:
            self._stub.Log(request, timeout=LOG_TIMEOUT_SECONDS)
        except grpc.RpcError:
            print(request.message, file=sys.stderr, flush=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stub, name)


def install(engine_address: str) -> None:
    """Make ``pulumi.log`` in this process send to the engine at ``engine_address``."""
    settings.configure(
        settings.Settings(project=None, stack=None, engine=EngineLog(engine_address))
    )
