"""``pulumi up`` / ``pulumi preview`` of a Python program where no ``pulumi-language-python``
is installed: the Automation API runs the program inline and serves the language runtime to
the real CLI (``--client``). Engine, plugins and state are the CLI's own.

    python -P testkit/inline_program.py up --stack local [--program __main__.py]
    python -P testkit/inline_program.py preview --stack dev --policy-pack policy

Run it with the project directory as working directory and the environment of a
``testkit.pulumi_cli.PulumiSandbox`` (the CLI first on PATH). The program is run as the
language host runs it: ``runpy`` with ``__name__ == "__main__"`` and its folder first on
``sys.path``. The stack is created if it does not exist; its config comes from the project's
``Pulumi.<stack>.yaml``. Exits 0 on success, 1 with the engine's output on failure.

``-P`` keeps testkit/ off ``sys.path`` (its packaging.py would shadow the SDK's import of
``packaging``). Standalone on purpose (only the Pulumi SDK is imported): the working
directory, not the checkout, must decide what the program imports.
"""

from __future__ import annotations

import argparse
import runpy
import sys
from collections.abc import Sequence
from pathlib import Path

from pulumi import automation as auto


def _program(path: Path) -> auto.PulumiFn:
    def run() -> None:
        runpy.run_path(str(path), run_name="__main__")

    return run


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the operation, return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("operation", choices=["up", "preview"])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--program", default="__main__.py", help="relative to the project")
    parser.add_argument("--policy-pack", action="append", default=[], dest="policy_packs")
    args = parser.parse_args(argv)

    work_dir = Path.cwd()
    sys.path.insert(0, str(work_dir))
    stack = auto.create_or_select_stack(
        args.stack,
        project_name=_project_name(work_dir),
        program=_program(work_dir / args.program),
        opts=auto.LocalWorkspaceOptions(work_dir=str(work_dir)),
    )
    try:
        if args.operation == "up":
            stack.up(color="never", on_output=print, policy_packs=args.policy_packs or None)
        else:
            stack.preview(color="never", on_output=print, policy_packs=args.policy_packs or None)
    except auto.errors.CommandError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def _project_name(work_dir: Path) -> str:
    """The ``name:`` of the project's Pulumi.yaml."""
    for line in (work_dir / "Pulumi.yaml").read_text().splitlines():
        if line.startswith("name:"):
            return line.partition(":")[2].strip()
    raise SystemExit(f"{work_dir / 'Pulumi.yaml'} has no name")


if __name__ == "__main__":
    sys.exit(main())
