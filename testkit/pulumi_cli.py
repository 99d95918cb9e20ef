"""The real Pulumi CLI, run in a place of its own: for tests, benchmarks and the demo.

Where the CLI comes from: `make setup` builds ``pulumi`` and ``pulumi-language-yaml`` from
the pinned tools modules (``tools/``) into ``.pulumi-cli/bin`` wherever ``go`` is on PATH,
and puts the SDK's ``pulumi-resource-pulumi-python`` script beside them. `find_cli` prefers
that build, else a ``pulumi`` on PATH; `why_no_cli` says why there is none.

`PulumiSandbox` runs it isolated from this machine's own Pulumi setup:

* ``PULUMI_HOME`` of its own: no plugin installed on this machine is used, nothing is
  written to ``~/.pulumi``;
* a file state backend in a folder of its own, secrets by passphrase;
* no automatic plugin download, no update check, never a question (``--non-interactive``;
  mutating commands take ``--yes`` from the caller);
* the CLI's folder first on PATH: the engine finds its language hosts and the dynamic
  provider script there;
* the AWS setup of ``testkit.aws_env`` (credentials test/test, nothing of this machine's).

Python programs. ``pulumi-language-python`` cannot be built here (the Go module proxy
serves no version of it: docs/real-engine.md), so ``pulumi up`` of a Python program runs
through the Automation API's inline program (`workspace_options`): the same CLI and engine,
with the SDK serving the language runtime (``--client``). ``destroy``, ``refresh``,
``import`` and ``stack export`` do not run the program and run as plain commands (`run`).
Under ``--client`` the engine passes no runtime option (``virtualenv``) to the dynamic
provider plugin, so the sandbox sets ``PULUMI_RUNTIME_VIRTUALENV``, the variable through
which the engine passes it otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testkit.aws_env import isolated_environ

REPOSITORY = Path(__file__).resolve().parents[1]
BUILT_CLI = REPOSITORY / ".pulumi-cli" / "bin" / "pulumi"
"""Where `make setup` builds the CLI (git ignores the folder)."""

INLINE_PROGRAM = Path(__file__).with_name("inline_program.py")
"""The driver of `PulumiSandbox.python_program` (see the module docstring)."""
DEFAULT_PASSPHRASE = "gamelift-backfill-tests"
COMMAND_TIMEOUT_SECONDS = 600.0
"""A bound on one CLI command, so a hung engine fails a test instead of the whole run."""


def find_cli() -> Path | None:
    """The CLI built by `make setup`, else ``pulumi`` on PATH, else None."""
    if BUILT_CLI.exists():
        return BUILT_CLI
    on_path = shutil.which("pulumi")
    return Path(on_path) if on_path is not None else None


def why_no_cli() -> str | None:
    """None when a CLI is available; otherwise why not, and whether that is a fault.

    Where ``go`` is on PATH, `make setup` must have built the CLI: its absence is a
    failure (the string starts with ``FAIL:``), never a reason to skip.
    """
    if find_cli() is not None:
        return None
    if shutil.which("go") is not None:
        built = BUILT_CLI.relative_to(REPOSITORY)
        return f"FAIL: go is on PATH but {built} is missing: run make setup"
    return "neither go (to build the Pulumi CLI) nor pulumi is on PATH"


class PulumiCommandError(RuntimeError):
    """A CLI command exited non-zero; the message holds its output."""

    def __init__(self, args: list[str], done: subprocess.CompletedProcess[str]) -> None:
        super().__init__(
            f"pulumi {' '.join(args)} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
        self.result = done


@dataclass
class PulumiSandbox:
    """One isolated Pulumi home and state backend under ``root`` (see the module docstring)."""

    root: Path
    cli: Path
    passphrase: str = DEFAULT_PASSPHRASE
    virtualenv: Path = Path(sys.prefix)

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def home(self) -> Path:
        return self.root / "home"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every CLI command; ``extra`` last (e.g. ``AWS_REGION``)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        return isolated_environ(
            None,
            PATH=f"{self.cli.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            PULUMI_HOME=str(self.home),
            PULUMI_BACKEND_URL=self.state_dir.as_uri(),
            PULUMI_CONFIG_PASSPHRASE=self.passphrase,
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="true",
            PULUMI_RUNTIME_VIRTUALENV=str(self.virtualenv),
            NO_COLOR="1",
            **extra,
        )

    def command(self, *args: str) -> list[str]:
        """The argv of ``pulumi ARGS`` as the sandbox runs it."""
        return [str(self.cli), *args, "--non-interactive", "--color", "never"]

    def run(
        self,
        *args: str,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        timeout: float = COMMAND_TIMEOUT_SECONDS,
    ) -> subprocess.CompletedProcess[str]:
        """``pulumi ARGS`` in ``cwd``; raises `PulumiCommandError` on failure if ``check``."""
        return self._finish(self.command(*args), list(args), cwd, env, check, timeout)

    def python_program(
        self,
        operation: str,
        *args: str,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        timeout: float = COMMAND_TIMEOUT_SECONDS,
    ) -> subprocess.CompletedProcess[str]:
        """``pulumi up`` or ``preview`` (``operation``) of the Python program in ``cwd``,
        through the Automation API (testkit/inline_program.py); ``args`` are the driver's
        (``--stack S``, ``--policy-pack P``)."""
        python = str(self.virtualenv / "bin" / "python")
        argv = [python, "-P", str(INLINE_PROGRAM), operation, *args]
        return self._finish(argv, [operation, *args], cwd, env, check, timeout)

    def _finish(
        self,
        argv: list[str],
        args: list[str],
        cwd: Path,
        env: Mapping[str, str] | None,
        check: bool,
        timeout: float,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` to the end, output captured; `PulumiCommandError` if ``check``."""
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=dict(env) if env is not None else self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise PulumiCommandError(args, done)
        return done

    def popen(
        self, *args: str, cwd: Path, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[str]:
        """``pulumi ARGS`` started in the background (for Ctrl-C and kill), output piped."""
        return subprocess.Popen(
            self.command(*args),
            cwd=cwd,
            env=dict(env) if env is not None else self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def stop_leftovers(self) -> list[int]:
        """SIGKILL every process still running with this sandbox's ``PULUMI_HOME``; their IDs.

        A test that kills the CLI (SIGKILL mid-drain) leaves its plugins running: the engine
        starts each plugin in a process group of its own, so killing the CLI's group does
        not reach them, and nothing else ever stops them. Every process the sandbox starts,
        and every plugin the engine starts for it, inherits the variable. Reads ``/proc``:
        elsewhere than Linux, nothing is done.
        """
        marker = f"PULUMI_HOME={self.home}".encode()
        stopped = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                variables = (proc / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            pid = int(proc.name)
            if marker in variables and pid != os.getpid():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    continue
                stopped.append(pid)
        return stopped

    def export(self, stack: str, cwd: Path, *, show_secrets: bool = False) -> dict[str, Any]:
        """``pulumi stack export`` of ``stack``, parsed."""
        args = ["stack", "export", "--stack", stack]
        if show_secrets:
            args.append("--show-secrets")
        exported: dict[str, Any] = json.loads(self.run(*args, cwd=cwd).stdout)
        return exported

    def workspace_options(self, work_dir: Path, **extra_env: str) -> Any:
        """Automation API options running this sandbox's CLI in ``work_dir``."""
        from pulumi import automation as auto

        return auto.LocalWorkspaceOptions(
            work_dir=str(work_dir),
            env_vars=self.env(**extra_env),
            pulumi_command=auto.PulumiCommand(
                root=str(self.cli.parent.parent), skip_version_check=True
            ),
        )


PROJECT_FILES = ("Pulumi.yaml", "Pulumi.local.yaml", "__main__.py", "program_config.py")
PROJECT_DIRS = ("gamelift_backfill", "providers", "rulesets")


def copy_project(dest: Path, *, with_package: bool = True) -> Path:
    """The project's Pulumi program copied to ``dest``, as a user's checkout has it, sharing
    this checkout's virtualenv (``.venv`` links to it). Without ``with_package`` the copy
    has no ``gamelift_backfill``/``providers`` folders: the package must come from the
    virtualenv the engine runs the plugin in."""
    dest.mkdir(parents=True)
    for name in PROJECT_FILES:
        shutil.copy2(REPOSITORY / name, dest / name)
    dirs = PROJECT_DIRS if with_package else ("rulesets",)
    for name in dirs:
        shutil.copytree(
            REPOSITORY / name, dest / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    (dest / ".venv").symlink_to(REPOSITORY / ".venv", target_is_directory=True)
    return dest
