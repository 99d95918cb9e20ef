"""A test host that plays the Pulumi engine against the SDK's own dynamic provider plugin.

The provider plugin for Python dynamic resources is plain Python: ``python -u -m
pulumi.dynamic``. `PluginHost` starts it (or the native plugin) the way the engine does and
speaks the ResourceProvider gRPC protocol to it, so fast tests and benchmarks exercise the
code path of ``pulumi up/preview/refresh/destroy`` without a CLI (the real CLI, where
`make setup` built it, runs in the end-to-end tests).

What the engine does, and therefore this host. Observed with the real CLI v3.276.0
(``PULUMI_DEBUG_GRPC``; the committed record is tests/fixtures/engine_calls/, made by
tests/record_engine_calls.py, and tests/test_engine_parity.py holds this host to it):

- Launch: ``<virtualenv>/bin/python -u -m pulumi.dynamic <engine address>`` with the project
  directory as working directory, the caller's environment (``env`` on top; callers isolate
  their AWS setup with ``testkit.aws_env``, as tests/conftest.py does for the session) plus
  ``PULUMI_RUNTIME_<OPTION>`` for each runtime option of ``Pulumi.yaml``, ``PULUMI_PROJECT``
  and ``PULUMI_CONFIG`` (the whole stack config as JSON, namespaced keys). The plugin prints
  its port on the first line of stdout. SDK 3.272.0 ignores the engine address; no engine
  server runs here, so a placeholder is passed. ``python -m`` puts the working directory on
  ``sys.path``: that is how the plugin imports ``gamelift_backfill.*`` (or release 1's
  ``providers.*``) when it unpickles ``__provider`` (pickled by reference).
- Every CLI run starts fresh plugin processes (``destroy`` and ``refresh`` even two: one for
  their preview pass, one for the real one); each session opens with Handshake (both of our
  plugins answer UNIMPLEMENTED, which the engine accepts) and GetPluginInfo.
- Configuration: when the program runs (up, preview, import; ``runs_program=True``)
  CheckConfig comes first, with the config's secrets stripped (the dynamic plugin answers
  UNIMPLEMENTED; the engine goes on with the config as it is), and DiffConfig when the state
  already holds the provider (`diff_config`). Refresh and destroy send neither. Configure
  then gets ``args`` (the config, secrets wrapped) and ``variables`` (plain strings named
  ``<package>:config:<key>``), ``acceptSecrets``/``acceptResources``/``sendsOldInputs``/
  ``sendsOldInputsToDelete`` true, and the provider's ID. For the dynamic plugin (package
  ``pulumi-python``) that config is the whole stack config with namespaced keys
  (``pulumi-python:config:gamelift-backfill:region`` in ``variables``); for the native one,
  the provider's own keys (``region``, ``endpointUrl``). The dynamic plugin answers
  ``acceptSecrets=False`` and no ``supportsPreview``; the native one ``acceptSecrets=True``.
- Check: on a create ``olds`` and ``old_outputs`` are empty; on an update ``olds`` are the
  inputs in state (not the outputs) and ``old_outputs`` the outputs in state. ``randomSeed``
  is 32 random bytes (fixed here). Diff, Update and Delete get the outputs in state as
  ``olds``/``properties`` and the inputs in state as ``old_inputs`` (this host sends the
  inputs its last create/update of that URN stored, unless the caller gives them).
- Refresh (`refresh`): Read with the outputs and inputs in state, then Diff of the outputs
  read against the inputs (``old_inputs``: the same inputs). Import (`import_resource`):
  Read with the ID, empty properties and no inputs field, then Check with the inputs read as
  both ``olds`` and ``news``. ``pulumi import`` protects what it imports
  (``--protect=false`` to destroy it later).
- Secrets: a plugin that answers ``acceptSecrets=False`` gets every property bag with
  secrets stripped (``__provider`` included), and the engine marks an output secret when the
  input of the same key contained a secret (``annotateSecrets``). A plugin that accepts
  secrets gets them wrapped and must send them back wrapped itself: the engine re-marks
  nothing for it.
- Preview: Check (and Diff) receive unknowns as the sentinel string `UNKNOWN`. Because neither
  plugin supports previews, the engine never calls Create or Update during a preview: it
  uses the checked inputs as the planned outputs. `PluginHost.create` and `PluginHost.update`
  with ``preview=True`` do the same (and would call the plugin if it ever announced support).
- Timeouts: ``customTimeouts.delete`` reaches Delete's ``timeout`` in seconds, for both
  plugins (the SDK's dynamic provider server does not hand it to ``delete``); without
  customTimeouts no ``timeout`` is sent.
- A failed Delete leaves the resource in state unchanged, with no pending operation, and the
  engine deletes nothing it depends on.
- Cancel: sent at the end of every run (interrupted or not), and on Ctrl-C while calls are
  in flight: the native plugin ends its waits; the dynamic plugin ignores it and the engine
  waits for the Delete in flight. `close` sends Cancel before stopping the plugin.
- Numbers cross as protobuf Struct values: every number comes back as a float.

Every call the host sends is kept in `PluginHost.sent` (method and request in protobuf's
JSON form, as the engine's gRPC log shows them).

Representation in this module: property bags are plain dicts; a secret is `Secret(value)`;
an unknown is `UNKNOWN`. Results use the same representation, so tests compare them directly.

Concurrency: the plugin serves at most 4 calls at once (a 4-thread gRPC server); further calls
queue in the plugin. All methods may be called from several threads at once.

Native plugin: ``PluginHost(command=[...pulumi-resource-gamelift-backfill], package=
"gamelift-backfill", engine=EngineStub())`` starts the native plugin instead, with the
address of an engine stub (`EngineStub`, which records every Log call) as first argument,
the way the engine starts any provider plugin. That plugin accepts secrets (property bags
keep `Secret` values both ways) and receives ``timeout`` (customTimeouts) and Cancel.

Import it as ``testkit.plugin_host`` (tests and benchmarks alike). Provider modules outside
the project directory (e.g. ``tests/fixtures``) reach the plugin through ``python_path``
(added to ``PYTHONPATH``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

import grpc
import yaml  # type: ignore[import-untyped]
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.dynamic import Resource, ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2, provider_pb2_grpc

UNKNOWN: str = rpc.UNKNOWN
"""The engine's sentinel for a value not known during preview (as it crosses the wire)."""

PROVIDER_KEY = "__provider"
PLUGIN_MAX_CONCURRENT_CALLS = 4
DEFAULT_PROJECT_DIR = Path(__file__).resolve().parents[1]
ENGINE_ADDRESS_PLACEHOLDER = "127.0.0.1:0"
"""Passed where the engine passes its own address; the 3.272.0 plugin does not read it."""

PROVIDER_ID = "00000000-0000-4000-8000-000000000000"
"""The default provider's resource ID in Configure (the engine sends the state's UUID)."""
RANDOM_SEED = bytes(range(32))
"""Check's ``randomSeed``: the engine sends 32 random bytes; fixed here, for repeatability."""

_SECRET_SIG = {rpc._special_sig_key: rpc._special_secret_sig}


@dataclass(frozen=True)
class Secret:
    """A value the engine holds as secret (in state, or in the program's inputs)."""

    value: Any


class PluginError(Exception):
    """A gRPC call to the plugin failed; `details` is the plugin's message.

    For a provider exception it is the plugin's ``traceback.format_exc()``, whose last line is
    ``ExceptionType: message`` (see `provider_message`). A dead plugin gives UNAVAILABLE.
    """

    def __init__(self, method: str, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{method} failed ({code.name}): {details}")
        self.method = method
        self.code = code
        self.details = details

    @property
    def provider_message(self) -> str:
        """The last line of the plugin's traceback: ``ExceptionType: message``."""
        lines = [line for line in self.details.strip().splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""


class ConfigCheckError(Exception):
    """CheckConfig reported failures: the engine stops before configuring the plugin."""

    def __init__(self, failures: list[CheckFailure]) -> None:
        super().__init__("; ".join(f"{f.property}: {f.reason}" for f in failures))
        self.failures = failures


class PluginStartError(Exception):
    """The plugin exited or stayed silent before printing its port."""


@dataclass(frozen=True)
class CheckFailure:
    property: str
    reason: str


@dataclass(frozen=True)
class CheckResponse:
    inputs: dict[str, Any]
    failures: list[CheckFailure]


@dataclass(frozen=True)
class DiffResponse:
    changes: Literal["none", "some", "unknown"]
    replaces: list[str]
    delete_before_replace: bool
    stables: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CreateResponse:
    id: str
    outs: dict[str, Any]
    plugin_called: bool = True
    """False for a preview the engine answers itself (the plugin does not support previews)."""


@dataclass(frozen=True)
class ReadResponse:
    id: str
    """Empty when the provider reports the resource gone: the engine then drops it."""
    outs: dict[str, Any]
    inputs: dict[str, Any] | None


@dataclass(frozen=True)
class UpdateResponse:
    outs: dict[str, Any]
    plugin_called: bool = True


@dataclass(frozen=True)
class ConfigureInfo:
    accept_secrets: bool
    supports_preview: bool


@dataclass(frozen=True)
class SentCall:
    """One call this host sent to the plugin, as the engine's ``PULUMI_DEBUG_GRPC`` log
    shows a call: the method and the request in protobuf's JSON form (camelCase names,
    fields left at their defaults omitted); ``error`` is the gRPC status name, if any."""

    method: str
    request: dict[str, Any]
    error: str | None = None


@dataclass(frozen=True)
class LogRecord:
    """One message a plugin sent to the engine's Log RPC."""

    severity: str  # DEBUG, INFO, WARNING, ERROR
    message: str
    urn: str


class EngineStub(engine_pb2_grpc.EngineServicer):
    """The engine's gRPC service, as far as a provider plugin uses it: Log, recorded.

    Start it (or pass it to `PluginHost`, which starts and stops it) and read `records`.
    """

    def __init__(self) -> None:
        self._server: Any = None
        self._records: list[LogRecord] = []
        self._changed = threading.Condition()
        self.address = ""

    def start(self) -> str:
        """Serve on a loopback port; the address the plugin gets as first argument."""
        from concurrent.futures import ThreadPoolExecutor

        self._server = grpc.server(ThreadPoolExecutor(8), options=_GRPC_CHANNEL_OPTIONS)
        engine_pb2_grpc.add_EngineServicer_to_server(self, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self.address = f"127.0.0.1:{port}"
        return self.address

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None)

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:  # noqa: N802 (gRPC name)
        record = LogRecord(
            engine_pb2.LogSeverity.Name(request.severity), request.message, request.urn
        )
        with self._changed:
            self._records.append(record)
            self._changed.notify_all()
        return empty_pb2.Empty()

    @property
    def records(self) -> list[LogRecord]:
        with self._changed:
            return list(self._records)

    @property
    def text(self) -> str:
        """Every message logged so far, one per line."""
        return "\n".join(r.message for r in self.records)

    def wait_for(self, predicate: Any, timeout: float = 60.0) -> LogRecord:
        """The first record satisfying ``predicate``, waiting for it to be logged."""
        with self._changed:
            found: list[LogRecord] = []

            def ready() -> bool:
                found[:] = [r for r in self._records if predicate(r)]
                return bool(found)

            if not self._changed.wait_for(ready, timeout=timeout):
                raise TimeoutError("no matching log record")
            return found[0]


def type_token(resource_class: type[Resource]) -> str:
    """The type token of a dynamic resource class, computed by the SDK itself.

    ``class X(Resource, module="gamelift", name="BackfillTicket")`` gives
    ``pulumi-python:dynamic/gamelift:BackfillTicket``.
    """
    return f"pulumi-python:{resource_class._resource_type_name}"


def make_urn(
    name: str,
    type_: str = "pulumi-python:dynamic/gamelift:BackfillTicket",
    *,
    stack: str = "stack",
    project: str = "gamelift-backfill",
) -> str:
    """A resource URN as the engine builds it for a top-level resource."""
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def program_inputs(
    provider: ResourceProvider, props: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The inputs a program registers: ``props`` plus ``__provider`` as the SDK serializes it.

    Like `pulumi.dynamic.Resource`, ``__provider`` is secret unless the provider sets
    ``serialize_as_secret_always = False``.
    """
    serialized = serialize_provider(provider)
    secret = getattr(provider, "serialize_as_secret_always", True)
    return {**(props or {}), PROVIDER_KEY: Secret(serialized) if secret else serialized}


def to_state(props: Mapping[str, Any]) -> dict[str, Any]:
    """A property bag in the JSON form of a stack's state (``stack export --show-secrets``).

    Secrets become ``{sig: secret-sig, "plaintext": "<json>"}``; unknowns cannot be stored.
    """
    return {key: _to_state_value(value) for key, value in props.items()}


def from_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of `to_state`: secrets in state become `Secret` values again."""
    return {key: _from_state_value(value) for key, value in state.items()}


def state_round_trip(outs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs as the engine stores them and reads them back for diff, update, read, delete."""
    return from_state(json.loads(json.dumps(to_state(outs))))


def contains_secrets(value: Any) -> bool:
    if isinstance(value, Secret):
        return True
    if isinstance(value, Mapping):
        return any(contains_secrets(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secrets(v) for v in value)
    return False


def contains_unknowns(value: Any) -> bool:
    if isinstance(value, Secret):
        return contains_unknowns(value.value)
    if isinstance(value, Mapping):
        return any(contains_unknowns(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknowns(v) for v in value)
    return bool(value == UNKNOWN)


def strip_secrets(value: Any) -> Any:
    """What the engine sends a provider that does not accept secrets: plain values."""
    if isinstance(value, Secret):
        return strip_secrets(value.value)
    if isinstance(value, Mapping):
        return {k: strip_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    return value


def annotate_secrets(outs: dict[str, Any], ins: Mapping[str, Any]) -> dict[str, Any]:
    """The engine's ``annotateSecrets``: an output is secret when its input of that key was."""
    result = dict(outs)
    for key, in_value in ins.items():
        if key not in result:
            continue
        out_value = result[key]
        if isinstance(out_value, dict) and isinstance(in_value, Mapping):
            result[key] = annotate_secrets(out_value, in_value)
        elif not isinstance(out_value, Secret) and contains_secrets(in_value):
            result[key] = Secret(out_value)
    return result


class PluginHost:
    """The Pulumi engine's side of the dynamic provider plugin, as a context manager.

    Usage::

        with PluginHost(config={"aws:region": "us-west-2"}) as host:
            news = program_inputs(BackfillTicketProvider(), {"ticket_id": "t-1"})
            checked = host.check(urn, {}, news)
            created = host.create(urn, checked.inputs)
            host.delete(created.id, urn, state_round_trip(created.outs))
    """

    def __init__(
        self,
        project_dir: str | os.PathLike[str] = DEFAULT_PROJECT_DIR,
        *,
        config: Mapping[str, str | Secret] | None = None,
        env: Mapping[str, str] | None = None,
        python_path: Sequence[str | os.PathLike[str]] = (),
        python: str | None = None,
        start_timeout: float = 30.0,
        call_timeout: float | None = 300.0,
        command: Sequence[str] | None = None,
        package: str = "pulumi-python",
        engine: EngineStub | None = None,
        runs_program: bool = True,
    ) -> None:
        self.runs_program = runs_program
        """True for up/preview/import (CheckConfig before Configure), False for the
        engine's refresh and destroy, which do not run the program."""
        self.command = list(command) if command else None
        self.package = package
        self.engine = engine
        self.project_dir = Path(project_dir).resolve()
        self.config: dict[str, str | Secret] = dict(config or {})
        self.call_timeout = call_timeout
        self._extra_env = dict(env or {})
        self._python_path = [str(Path(p).resolve()) for p in python_path]
        self._python = python
        self._start_timeout = start_timeout
        self._project_name, self._runtime_options = _read_project(self.project_dir)
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: Any = None
        self._stub: Any = None
        self._port: Future[int] = Future()
        self._engine_address = ENGINE_ADDRESS_PLACEHOLDER
        self.sent: list[SentCall] = []
        """Every call sent to the plugin, in order (compared with the real engine's calls
        by tests/test_engine_parity.py)."""
        self._state_inputs: dict[str, dict[str, Any]] = {}
        """Per URN, the inputs the last create/update stored (the engine's state ``inputs``),
        sent as ``old_inputs`` unless the caller gives them."""
        self._stdout = bytearray()
        self._stderr = bytearray()
        self._output_lock = threading.Lock()
        self._readers: list[threading.Thread] = []
        self._configure_lock = threading.Lock()
        self.configure_info: ConfigureInfo | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> PluginHost:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def pid(self) -> int:
        assert self._process is not None, "plugin not started"
        return self._process.pid

    def start(self) -> None:
        """Launch the plugin, read its port and wait until it answers gRPC calls."""
        engine_address = ENGINE_ADDRESS_PLACEHOLDER
        if self.engine is not None:
            engine_address = self.engine.address or self.engine.start()
        self._engine_address = engine_address
        argv = [self._python_executable(), "-u", "-m", "pulumi.dynamic"]
        self._process = subprocess.Popen(
            [*(self.command or argv), engine_address],
            cwd=self.project_dir,
            env=self._plugin_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._readers = [
            threading.Thread(target=self._read_stdout, name="plugin-stdout", daemon=True),
            threading.Thread(target=self._read_stderr, name="plugin-stderr", daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        try:
            port = self._port.result(timeout=self._start_timeout)
            self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", _GRPC_CHANNEL_OPTIONS)
            grpc.channel_ready_future(self._channel).result(timeout=self._start_timeout)
        except Exception as exc:
            self.kill()
            for reader in self._readers:
                reader.join(timeout=5)
            raise PluginStartError(f"plugin did not start: {exc}\nstderr:\n{self.stderr}") from exc
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        self._handshake()

    def kill(self) -> None:
        """SIGKILL the plugin, as a crash would (calls in flight fail with UNAVAILABLE)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def close(self) -> None:
        """Stop the plugin the way the engine does at the end of every run: Cancel (sent
        even when nothing was interrupted), then SIGINT, then SIGKILL after 5 s."""
        if self._stub is not None and self.returncode is None:
            # The engine ignores a failed Cancel at shutdown too.
            with contextlib.suppress(PluginError):
                self._call("Cancel", empty_pb2.Empty(), timeout=5)
        if self._channel is not None:
            self._channel.close()
        if self._process is not None:
            if self._process.poll() is None:
                self._process.send_signal(signal.SIGINT)
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.kill()
            if self._process.stdin is not None:
                self._process.stdin.close()
        for reader in self._readers:
            reader.join(timeout=5)
        if self.engine is not None:
            self.engine.stop()

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    @property
    def stderr(self) -> str:
        """Everything the plugin wrote to stderr so far (``pulumi.log`` goes here)."""
        with self._output_lock:
            return self._stderr.decode(errors="replace")

    @property
    def stdout(self) -> str:
        """What the plugin wrote to stdout after its port line."""
        with self._output_lock:
            return self._stdout.decode(errors="replace")

    # -- the ResourceProvider protocol -----------------------------------------------------

    def configure(self, config: Mapping[str, str | Secret] | None = None) -> ConfigureInfo:
        """Configure the plugin with the whole stack config (namespaced keys, e.g. aws:region).

        As the engine does whenever the program runs (``runs_program``: up, preview,
        import; not refresh or destroy), CheckConfig comes first, with the config's secrets
        stripped; an UNIMPLEMENTED answer (the dynamic plugin's) leaves the config as it is,
        failures raise `ConfigCheckError`. Configure then gets the checked config as
        ``args`` (secrets wrapped again) and ``variables`` (``<package>:config:<key>``).

        The dynamic plugin hands it to each provider's ``configure`` when it first unpickles
        that provider, and caches the provider: configuring again later does not reach
        providers already in use, as in the engine (which configures once per run).
        """
        if config is not None:
            self.config = dict(config)
        args: Mapping[str, Any] = self.config
        if self.runs_program:
            args = self.check_config(self.config)
        request = provider_pb2.ConfigureRequest(
            id=PROVIDER_ID,
            urn=self.provider_urn,
            name="default",
            type=f"pulumi:providers:{self.package}",
            variables={
                f"{self.package}:config:{key}": _config_string(strip_secrets(value))
                for key, value in args.items()
            },
            args=_serialize(_wrap_secrets(dict(args))),
            acceptSecrets=True,
            acceptResources=True,
            sends_old_inputs=True,
            sends_old_inputs_to_delete=True,
        )
        response = self._call("Configure", request)
        info = ConfigureInfo(
            accept_secrets=response.acceptSecrets, supports_preview=response.supportsPreview
        )
        self.configure_info = info
        return info

    @property
    def provider_urn(self) -> str:
        """The URN of the stack's default provider of this plugin's package."""
        return make_urn("default", f"pulumi:providers:{self.package}", project=self._project_name)

    def check_config(
        self, news: Mapping[str, Any], olds: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """CheckConfig as the engine sends it: secrets stripped (the plugin has not said yet
        whether it accepts them); the checked config, with the secrets of ``news`` marked
        again. UNIMPLEMENTED (the dynamic plugin) leaves ``news`` as it is."""
        request = provider_pb2.CheckRequest(
            urn=self.provider_urn,
            name="default",
            type=f"pulumi:providers:{self.package}",
            olds=_serialize(strip_secrets(dict(olds or {}))),
            news=_serialize(strip_secrets(dict(news))),
        )
        try:
            response = self._call("CheckConfig", request)
        except PluginError as error:
            if error.code == grpc.StatusCode.UNIMPLEMENTED:
                return dict(news)
            raise
        failures = [CheckFailure(f.property, f.reason) for f in response.failures]
        if failures:
            raise ConfigCheckError(failures)
        checked = _from_sdk(rpc.deserialize_properties(response.inputs, keep_unknowns=True))
        return annotate_secrets(checked, news)

    def diff_config(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResponse | None:
        """DiffConfig, which the engine sends when the stack's state already holds this
        provider and the program runs; None when the plugin does not implement it."""
        request = provider_pb2.DiffRequest(
            urn=self.provider_urn,
            name="default",
            type=f"pulumi:providers:{self.package}",
            olds=_serialize(strip_secrets(dict(olds))),
            news=_serialize(strip_secrets(dict(news))),
            old_inputs=_serialize(strip_secrets(dict(olds))),
        )
        try:
            response = self._call("DiffConfig", request)
        except PluginError as error:
            if error.code == grpc.StatusCode.UNIMPLEMENTED:
                return None
            raise
        return _diff_response(response)

    def check(
        self,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_outputs: Mapping[str, Any] | None = None,
        random_seed: bytes = RANDOM_SEED,
    ) -> CheckResponse:
        """Check ``news`` (the program's inputs) against ``olds``: as the engine sends them,
        the inputs in state (``{}`` for a create), and ``old_outputs`` the outputs in state."""
        info = self._ensure_configured()
        request = provider_pb2.CheckRequest(
            urn=urn,
            name=_urn_name(urn),
            type=_urn_type(urn),
            olds=self._outgoing(olds, info),
            news=self._outgoing(news, info),
            old_outputs=self._outgoing(old_outputs or {}, info),
            randomSeed=random_seed,
        )
        response = self._call("Check", request)
        inputs = self._incoming(response.inputs, news, info)
        failures = [CheckFailure(f.property, f.reason) for f in response.failures]
        return CheckResponse(inputs=inputs, failures=failures)

    def diff(
        self,
        id: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
    ) -> DiffResponse:
        """Diff the outputs in state (``olds``) against the checked new inputs (``news``)."""
        info = self._ensure_configured()
        request = provider_pb2.DiffRequest(
            id=id,
            urn=urn,
            name=_urn_name(urn),
            type=_urn_type(urn),
            olds=self._outgoing(olds, info),
            news=self._outgoing(news, info),
            old_inputs=self._outgoing(self._old_inputs(urn, olds, old_inputs), info),
        )
        return _diff_response(self._call("Diff", request))

    def create(
        self, urn: str, props: Mapping[str, Any], *, preview: bool = False, timeout: float = 0.0
    ) -> CreateResponse:
        """Create from the checked inputs; a preview follows the engine (see module doc)."""
        info = self._ensure_configured()
        if preview and not info.supports_preview:
            return CreateResponse(id="", outs=dict(props), plugin_called=False)
        self._reject_unknowns("Create", props, preview)
        request = provider_pb2.CreateRequest(
            urn=urn,
            name=_urn_name(urn),
            type=_urn_type(urn),
            properties=self._outgoing(props, info),
            preview=preview,
            timeout=timeout,
        )
        response = self._call("Create", request)
        self._state_inputs[urn] = dict(props)
        return CreateResponse(id=response.id, outs=self._incoming(response.properties, props, info))

    def read(
        self,
        id: str,
        urn: str,
        props: Mapping[str, Any],
        *,
        inputs: Mapping[str, Any] | None = None,
    ) -> ReadResponse:
        """Refresh: read the live resource from its outputs in state (and its inputs)."""
        info = self._ensure_configured()
        self._reject_unknowns("Read", props, preview=False)
        request = provider_pb2.ReadRequest(
            id=id,
            urn=urn,
            name=_urn_name(urn),
            type=_urn_type(urn),
            properties=self._outgoing(props, info),
            inputs=self._outgoing(inputs, info) if inputs is not None else None,
        )
        response = self._call("Read", request)
        new_inputs = (
            self._incoming(response.inputs, inputs or {}, info)
            if response.HasField("inputs")
            else None
        )
        return ReadResponse(
            id=response.id,
            outs=self._incoming(response.properties, props, info),
            inputs=new_inputs,
        )

    def refresh(
        self, id: str, urn: str, props: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[ReadResponse, DiffResponse | None]:
        """``pulumi refresh`` of one resource, as the 3.276.0 engine does it: Read from the
        outputs and inputs in state, then, unless Read dropped the resource (empty ID), Diff
        of the outputs read against the inputs read (``old_inputs``: those in state)."""
        read = self.read(id, urn, props, inputs=inputs)
        if not read.id:
            return read, None
        news = read.inputs if read.inputs is not None else inputs
        diff = self.diff(read.id, urn, state_round_trip(read.outs), news, old_inputs=inputs)
        return read, diff

    def import_resource(self, id: str, urn: str) -> tuple[ReadResponse, CheckResponse]:
        """``pulumi import``: Read with only the ID (no properties, no inputs field), then
        Check of the inputs Read returned, as both olds and news."""
        info = self._ensure_configured()
        request = provider_pb2.ReadRequest(
            id=id, urn=urn, name=_urn_name(urn), type=_urn_type(urn), properties=struct_pb2.Struct()
        )
        response = self._call("Read", request)
        inputs = self._incoming(response.inputs, {}, info) if response.HasField("inputs") else {}
        read = ReadResponse(
            id=response.id, outs=self._incoming(response.properties, {}, info), inputs=inputs
        )
        checked = self.check(urn, inputs, inputs)
        return read, checked

    def update(
        self,
        id: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        preview: bool = False,
        old_inputs: Mapping[str, Any] | None = None,
        timeout: float = 0.0,
    ) -> UpdateResponse:
        """Update from the outputs in state (``olds``) to the checked new inputs (``news``)."""
        info = self._ensure_configured()
        if preview and not info.supports_preview:
            return UpdateResponse(outs=dict(news), plugin_called=False)
        self._reject_unknowns("Update", news, preview)
        request = provider_pb2.UpdateRequest(
            id=id,
            urn=urn,
            name=_urn_name(urn),
            type=_urn_type(urn),
            olds=self._outgoing(olds, info),
            news=self._outgoing(news, info),
            old_inputs=self._outgoing(self._old_inputs(urn, olds, old_inputs), info),
            preview=preview,
            timeout=timeout,
        )
        response = self._call("Update", request)
        self._state_inputs[urn] = dict(news)
        return UpdateResponse(outs=self._incoming(response.properties, news, info))

    def delete(
        self,
        id: str,
        urn: str,
        props: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        timeout: float = 0.0,
    ) -> None:
        """Destroy: delete the resource from its outputs in state (``timeout``: the
        resource's customTimeouts.delete in seconds, 0 for none)."""
        info = self._ensure_configured()
        self._reject_unknowns("Delete", props, preview=False)
        request = provider_pb2.DeleteRequest(
            id=id,
            urn=urn,
            name=_urn_name(urn),
            type=_urn_type(urn),
            properties=self._outgoing(props, info),
            old_inputs=self._outgoing(self._old_inputs(urn, props, old_inputs), info),
            timeout=timeout,
        )
        self._call("Delete", request)
        self._state_inputs.pop(urn, None)

    def get_schema(self) -> dict[str, Any]:
        """The package schema the plugin returns (GetSchema), parsed."""
        response = self._call("GetSchema", provider_pb2.GetSchemaRequest(version=0))
        schema: dict[str, Any] = json.loads(response.schema)
        return schema

    def cancel(self) -> None:
        """What the engine sends when the user interrupts (Ctrl-C): Cancel."""
        self._call("Cancel", empty_pb2.Empty())

    # -- internals -------------------------------------------------------------------------

    def _handshake(self) -> None:
        """The engine's first calls: Handshake (both plugins answer UNIMPLEMENTED, which the
        engine accepts), then GetPluginInfo. The flags are those the 3.276.0 engine sets."""
        try:
            self._call(
                "Handshake",
                provider_pb2.ProviderHandshakeRequest(
                    engine_address=self._engine_address,
                    root_directory=str(self.project_dir),
                    program_directory=str(self.project_dir),
                    configure_with_urn=True,
                    supports_views=True,
                    supports_refresh_before_update=True,
                    invoke_with_preview=True,
                    accepts_byte_string=True,
                    sends_old_outputs_to_check=True,
                    accepts_outputs_in_invoke=True,
                    accepts_outputs_in_call=True,
                ),
            )
        except PluginError as error:
            if error.code != grpc.StatusCode.UNIMPLEMENTED:
                raise
        self._call("GetPluginInfo", empty_pb2.Empty())

    def _call(self, method: str, request: Any, *, timeout: float | None = None) -> Any:
        """One gRPC call, recorded in `sent`; failures raise `PluginError`."""
        as_json = json_format.MessageToDict(request)
        try:
            response = getattr(self._stub, method)(
                request, timeout=self.call_timeout if timeout is None else timeout
            )
        except grpc.RpcError as error:
            self._sent(SentCall(method, as_json, error.code().name))
            raise PluginError(method, error.code(), error.details() or "") from None
        self._sent(SentCall(method, as_json))
        return response

    def _sent(self, call: SentCall) -> None:
        with self._output_lock:
            self.sent.append(call)

    def _old_inputs(
        self, urn: str, olds: Mapping[str, Any], given: Mapping[str, Any] | None
    ) -> Mapping[str, Any]:
        """``old_inputs`` as the engine sends them: the inputs in state (given, or those the
        last create/update of ``urn`` through this host stored), else ``olds``."""
        if given is not None:
            return given
        return self._state_inputs.get(urn, olds)

    def _ensure_configured(self) -> ConfigureInfo:
        """The engine always configures the provider before any resource call."""
        with self._configure_lock:
            if self.configure_info is None:
                self.configure()
            assert self.configure_info is not None
            return self.configure_info

    def _outgoing(self, props: Mapping[str, Any], info: ConfigureInfo) -> struct_pb2.Struct:
        bag = dict(props) if info.accept_secrets else strip_secrets(dict(props))
        return _serialize(_wrap_secrets(bag))

    def _incoming(
        self, struct: struct_pb2.Struct, ins: Mapping[str, Any], info: ConfigureInfo
    ) -> dict[str, Any]:
        outs = _from_sdk(rpc.deserialize_properties(struct, keep_unknowns=True))
        assert isinstance(outs, dict)
        return outs if info.accept_secrets else annotate_secrets(outs, ins)

    @staticmethod
    def _reject_unknowns(method: str, props: Mapping[str, Any], preview: bool) -> None:
        if not preview and contains_unknowns(props):
            raise ValueError(f"{method}: the engine sends unknown values only during preview")

    def _python_executable(self) -> str:
        """The shim's choice: the Pulumi.yaml virtualenv's python, else this interpreter."""
        if self._python:
            return self._python
        virtualenv = self._runtime_options.get("virtualenv")
        if virtualenv:
            candidate = (self.project_dir / str(virtualenv)) / "bin" / "python"
            if candidate.exists():
                return str(candidate)
        return sys.executable

    def _plugin_env(self) -> dict[str, str]:
        env = dict(os.environ)
        for key, value in self._runtime_options.items():
            env[f"PULUMI_RUNTIME_{key.upper()}"] = str(value)
        env["PULUMI_PROJECT"] = self._project_name
        env["PULUMI_CONFIG"] = json.dumps(strip_secrets(self.config))
        if self._python_path:
            existing = [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []
            env["PYTHONPATH"] = os.pathsep.join([*self._python_path, *existing])
        env.update(self._extra_env)
        return env

    def _read_stdout(self) -> None:
        """Read the port line byte by byte (as the engine does), then keep draining."""
        assert self._process is not None
        stream = cast(io.BufferedReader, self._process.stdout)
        line = bytearray()
        while not self._port.done():
            byte = stream.read(1)
            if not byte:
                self._port.set_exception(
                    PluginStartError(f"plugin exited before printing its port: {line.decode()!r}")
                )
                return
            if byte == b"\n":
                try:
                    self._port.set_result(int(line.decode().strip()))
                except ValueError:
                    self._port.set_exception(
                        PluginStartError(f"invalid port line {line.decode()!r}")
                    )
            else:
                line += byte
        self._drain(stream, self._stdout)

    def _read_stderr(self) -> None:
        assert self._process is not None
        self._drain(cast(io.BufferedReader, self._process.stderr), self._stderr)

    def _drain(self, stream: io.BufferedReader, buffer: bytearray) -> None:
        """Keep reading a pipe so the plugin never blocks on a full one."""
        for chunk in iter(lambda: stream.read1(4096), b""):
            with self._output_lock:
                buffer += chunk


def _diff_response(response: Any) -> DiffResponse:
    changes: dict[int, Literal["none", "some", "unknown"]] = {
        provider_pb2.DiffResponse.DIFF_NONE: "none",
        provider_pb2.DiffResponse.DIFF_SOME: "some",
        provider_pb2.DiffResponse.DIFF_UNKNOWN: "unknown",
    }
    return DiffResponse(
        changes=changes[response.changes],
        replaces=list(response.replaces),
        delete_before_replace=response.deleteBeforeReplace,
        stables=list(response.stables),
        diffs=list(response.diffs),
    )


def _config_string(value: Any) -> str:
    """A config value as ``variables`` carry it: strings as they are, others as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _read_project(project_dir: Path) -> tuple[str, dict[str, Any]]:
    """Project name and runtime options from Pulumi.yaml (defaults when there is none)."""
    path = project_dir / "Pulumi.yaml"
    if not path.exists():
        return "project", {}
    project = yaml.safe_load(path.read_text())
    runtime = project.get("runtime")
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    return str(project["name"]), dict(options or {})


def _serialize(bag: Mapping[str, Any]) -> struct_pb2.Struct:
    """Serialize with the SDK's own serializer (a fresh event loop: callable from any thread).

    The loop is never made the thread's current one (``asyncio.run`` would leave the thread
    with none, breaking later ``asyncio.get_event_loop()`` callers such as Pulumi's mocks).
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(dict(bag), {}))
    finally:
        loop.close()


def _wrap_secrets(value: Any) -> Any:
    """`Secret` values in the wire form the SDK deserializes (the secret signature object)."""
    if isinstance(value, Secret):
        return rpc.wrap_rpc_secret(_wrap_secrets(value.value))
    if isinstance(value, Mapping):
        return {k: _wrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrap_secrets(v) for v in value]
    return value


def _from_sdk(value: Any) -> Any:
    """The SDK's deserialized values in this module's representation."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if rpc.is_rpc_secret(value):
        return Secret(_from_sdk(rpc.unwrap_rpc_secret(value)))
    if isinstance(value, dict):
        return {k: _from_sdk(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_sdk(v) for v in value]
    return value


def _to_state_value(value: Any) -> Any:
    if isinstance(value, Secret):
        return {**_SECRET_SIG, "plaintext": json.dumps(strip_secrets(value.value))}
    if isinstance(value, Mapping):
        return {k: _to_state_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_state_value(v) for v in value]
    if value == UNKNOWN:
        raise ValueError("unknown values are never stored in state")
    return value


def _from_state_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return Secret(json.loads(value["plaintext"]))
        return {k: _from_state_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_state_value(v) for v in value]
    return value


def _urn_name(urn: str) -> str:
    return urn.split("::")[-1]


def _urn_type(urn: str) -> str:
    return urn.split("::")[-2].split("$")[-1]
