"""`pulumi-resource-gamelift-backfill`: the ResourceProvider gRPC service over the core.

Started as the engine starts any provider plugin (``pulumi-resource-gamelift-backfill
<engine-address>``), it prints its port on the first line of stdout, serves the
ResourceProvider service on loopback, and logs through the engine's Log RPC.

Built on the gRPC service directly (grpc.aio) rather than the SDK's experimental Provider
server, whose handlers append a Python traceback to every error the user sees. Each call's
blocking work (boto3) runs on a thread of its own pool, sized well above the engine's
parallelism, so calls run concurrently (the dynamic provider's plugin serves 4 at once).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from gamelift_backfill.core.errors import BackfillError, InputError
from gamelift_backfill.core.validation import check_endpoint_url
from gamelift_backfill.translate import NATIVE, ProviderConfig, advice, phrase

from . import engine_log, wire
from .cancel import CancelFlag, CancelledError
from .resources import NativeResource, resource_types
from .schema import VERSION, schema_json

T = TypeVar("T")
# Far above the engine's default parallelism (4 x CPUs, or --parallel): every call the
# engine sends runs at once.
WORKER_THREADS = 128


class CallError(Exception):
    """A call failed; ``message`` is what the user sees (no traceback)."""


def _message(error: BaseException) -> str:
    """What the user sees: the core's message and its fix in this front end's words."""
    if isinstance(error, InputError):
        fix = advice(error, NATIVE)
        problems = "; ".join(f"{wire.camel_path(f.field)}: {f.reason}" for f in error.failures)
        return wire.phrase(f"invalid input: {problems}" + (f". {fix}" if fix else ""))
    if isinstance(error, BackfillError):
        return wire.phrase(str(phrase(error, NATIVE)))
    if isinstance(error, CancelledError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class BackfillProvider(provider_pb2_grpc.ResourceProviderServicer):
    """The ResourceProvider service: translates each RPC for the resource it names."""

    def __init__(self) -> None:
        self.config = ProviderConfig()
        self.types: dict[str, NativeResource] = dict(resource_types(self.config))
        self.cancel_flag = CancelFlag()
        self._cancelled = asyncio.Event()
        self._pool = ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="call")

    # -- plumbing ---------------------------------------------------------------------

    async def _run(self, urn: str, fn: Callable[[], T]) -> T:
        """``fn()`` on a worker thread whose log messages carry ``urn``."""
        context = contextvars.copy_context()
        context.run(engine_log.CURRENT_URN.set, urn)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, context.run, fn)

    def _type(self, urn: str, type_: str) -> NativeResource:
        token = type_ or urn.split("::")[-2].split("$")[-1]
        resource = self.types.get(token)
        if resource is None:
            raise CallError(
                f"unknown resource type {token!r}: this provider has {sorted(self.types)}"
            )
        return resource

    async def _guarded(self, context: Any, call: Callable[[], Any]) -> Any:
        try:
            return await call()
        except CallError as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except Exception as error:  # every failure reaches the user as a message
            await context.abort(grpc.StatusCode.UNKNOWN, _message(error))

    # -- plugin -----------------------------------------------------------------------

    async def GetPluginInfo(self, request: Any, context: Any) -> Any:  # noqa: N802
        return plugin_pb2.PluginInfo(version=VERSION)

    async def GetSchema(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.GetSchemaResponse(schema=schema_json())

    async def Cancel(self, request: Any, context: Any) -> Any:  # noqa: N802
        """End every wait in progress (each with an error naming what is left)."""
        self.cancel_flag.set()
        self._cancelled.set()
        return empty_pb2.Empty()

    # -- provider configuration -------------------------------------------------------

    async def CheckConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        news = wire.from_struct(request.news)
        failures = []
        endpoint = news.get("endpoint_url")
        if isinstance(endpoint, str) and endpoint != wire.UNKNOWN:
            failures += check_endpoint_url(endpoint, "endpointUrl")
        return provider_pb2.CheckResponse(
            inputs=request.news,
            failures=[
                provider_pb2.CheckFailure(property=f.field, reason=f.reason) for f in failures
            ],
        )

    async def DiffConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        olds, news = wire.from_struct(request.olds), wire.from_struct(request.news)
        changed = [k for k in ("region", "endpoint_url") if olds.get(k) != news.get(k)]
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if changed
            else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=[wire.camel(k) for k in changed],
        )

    async def Configure(self, request: Any, context: Any) -> Any:  # noqa: N802
        # The provider's own settings: `args` (camelCase keys), else the namespaced
        # `variables` (gamelift-backfill:config:region) of older engines.
        settings: dict[str, Any] = {}
        prefix = "gamelift-backfill:config:"
        for key, value in request.variables.items():
            if key.startswith(prefix):
                settings[key.removeprefix(prefix)] = value
        if request.HasField("args"):
            settings.update(
                (k, wire.unwrap(v)) for k, v in json_format.MessageToDict(request.args).items()
            )
        config = ProviderConfig.from_mapping(settings)
        endpoint = config.endpoint_url
        if endpoint and (failures := check_endpoint_url(endpoint, "endpointUrl")):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, _message(InputError(failures)))
        self.config = config
        self.types = dict(resource_types(self.config))
        return provider_pb2.ConfigureResponse(
            acceptSecrets=True, acceptResources=False, supportsPreview=False
        )

    # -- resources --------------------------------------------------------------------

    async def Check(self, request: Any, context: Any) -> Any:  # noqa: N802
        async def call() -> Any:
            resource = self._type(request.urn, request.type)
            olds, news = wire.from_struct(request.olds), wire.from_struct(request.news)
            checked = await self._run(request.urn, lambda: resource.check(request.urn, olds, news))
            return provider_pb2.CheckResponse(
                inputs=wire.to_struct(
                    checked.inputs, {*resource.secret_outputs, *wire.secret_keys(request.news)}
                ),
                failures=[
                    provider_pb2.CheckFailure(property=wire.camel_path(f), reason=wire.phrase(r))
                    for f, r in checked.failures
                ],
            )

        return await self._guarded(context, call)

    async def Diff(self, request: Any, context: Any) -> Any:  # noqa: N802
        async def call() -> Any:
            resource = self._type(request.urn, request.type)
            olds, news = wire.from_struct(request.olds), wire.from_struct(request.news)
            diffed = await self._run(request.urn, lambda: resource.diff(request.id, olds, news))
            return provider_pb2.DiffResponse(
                changes=provider_pb2.DiffResponse.DIFF_SOME
                if diffed.changes
                else provider_pb2.DiffResponse.DIFF_NONE,
                replaces=[wire.camel(k) for k in diffed.replaces],
                deleteBeforeReplace=diffed.delete_before_replace,
            )

        return await self._guarded(context, call)

    async def Create(self, request: Any, context: Any) -> Any:  # noqa: N802
        async def call() -> Any:
            resource = self._type(request.urn, request.type)
            props = wire.from_struct(request.properties)
            id_, outs = await self._run(request.urn, lambda: resource.create(request.urn, props))
            secret = {*resource.secret_outputs, *wire.secret_keys(request.properties)}
            return provider_pb2.CreateResponse(id=id_, properties=wire.to_struct(outs, secret))

        return await self._guarded(context, call)

    async def Read(self, request: Any, context: Any) -> Any:  # noqa: N802
        async def call() -> Any:
            resource = self._type(request.urn, request.type)
            props, inputs = wire.from_struct(request.properties), wire.from_struct(request.inputs)
            read = await self._run(request.urn, lambda: resource.read(request.id, props, inputs))
            secret = {*resource.secret_outputs, *wire.secret_keys(request.properties)}
            response = provider_pb2.ReadResponse(
                id=read.id, properties=wire.to_struct(read.outs, secret)
            )
            if read.inputs is not None:
                secret_inputs = {*resource.secret_outputs, *wire.secret_keys(request.inputs)}
                response.inputs.CopyFrom(wire.to_struct(read.inputs, secret_inputs))
            return response

        return await self._guarded(context, call)

    async def Update(self, request: Any, context: Any) -> Any:  # noqa: N802
        async def call() -> Any:
            resource = self._type(request.urn, request.type)
            olds, news = wire.from_struct(request.olds), wire.from_struct(request.news)
            outs = await self._run(request.urn, lambda: resource.update(request.id, olds, news))
            secret = {*resource.secret_outputs, *wire.secret_keys(request.news)}
            return provider_pb2.UpdateResponse(properties=wire.to_struct(outs, secret))

        return await self._guarded(context, call)

    async def Delete(self, request: Any, context: Any) -> Any:  # noqa: N802
        async def call() -> Any:
            resource = self._type(request.urn, request.type)
            props = wire.from_struct(request.properties)
            watch = resource.watch(request.id, props, self.cancel_flag)
            if self.cancel_flag.is_set:
                raise watch.cancelled_error()
            work = asyncio.ensure_future(
                self._run(
                    request.urn,
                    lambda: resource.delete(request.id, props, watch, float(request.timeout)),
                )
            )
            cancelled = asyncio.ensure_future(self._cancelled.wait())
            await asyncio.wait({work, cancelled}, return_when=asyncio.FIRST_COMPLETED)
            cancelled.cancel()
            if not work.done() or (work.exception() is not None and self.cancel_flag.is_set):
                # Cancel ended the wait (the worker's own error is the deadline it saw
                # jump): answer with what is still active. A worker still running stops
                # waiting on its own.
                work.add_done_callback(_consume)
                raise watch.cancelled_error()
            work.result()
            return empty_pb2.Empty()

        return await self._guarded(context, call)


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned worker's outcome so asyncio does not report it."""
    if not future.cancelled():
        future.exception()


async def serve(engine_address: str, out: Any = None) -> None:
    """Serve until terminated; the port goes to ``out`` (stdout) as the engine expects."""
    engine_log.install(engine_address)
    server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(BackfillProvider(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    stream = out or sys.stdout
    stream.write(f"{port}\n")
    stream.flush()
    await server.wait_for_termination()


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point `pulumi-resource-gamelift-backfill <engine-address> [flags]`."""
    parser = argparse.ArgumentParser(
        prog="pulumi-resource-gamelift-backfill",
        description="Pulumi resource provider plugin for gamelift-backfill (started by the engine)",
    )
    parser.add_argument("engine", help="the Pulumi engine's gRPC address")
    args, _ = parser.parse_known_args(argv)  # the engine may add --logtostderr, -v=N, ...
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.engine))


if __name__ == "__main__":
    main()
