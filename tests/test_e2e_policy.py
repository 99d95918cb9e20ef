"""End to end: the policy pack (policy/) under the real Pulumi engine, `preview --policy-pack`.

How CLI 3.276 starts a policy pack (pkg/v3@v3.276.0/resource/plugin/analyzer_plugin.go,
NewPolicyAnalyzer): a folder is run through its runtime's language host (RunPlugin of
``pulumi-language-python``, which runs ``python -u -m pulumi.policy ENGINE_ADDRESS
PACK_DIR`` in the pack's folder and virtualenv); an executable file is started directly as
an analyzer plugin, ``FILE ENGINE_ADDRESS``. 3.276 no longer falls back to a
``pulumi-analyzer-policy-python`` plugin: with no language host it answers "no language
plugin 'pulumi-language-python' found in the workspace or on your $PATH". That host cannot
be built here (docs/real-engine.md), so the tests give the engine ``policy/analyzer``, the
pack's executable form, which runs the same ``python -u -m pulumi.policy`` in the same
folder and virtualenv. The engine, the analyzer protocol, pulumi-policy's server and the
pack's rules are the real ones; users with the language host run
``pulumi preview --policy-pack policy`` (policy/README.md).

The unguarded configuration is the fixture project's dynamic MatchmakingConfiguration
(tests/fixtures/e2e_doctor): Cloud Control and aws-native need plugins that cannot be
downloaded here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from e2e_doctor_helpers import (
    CONFIGURATION_TYPE,
    STACK,
    init_stack,
    make_project,
    seed_infrastructure,
)

from gamelift_emulator import Emulator, EmulatorControl
from testkit.pulumi_cli import REPOSITORY, PulumiSandbox

pytestmark = pytest.mark.e2e

PACK = REPOSITORY / "policy"
ANALYZER = PACK / "analyzer"


def preview_with_pack(
    pulumi: PulumiSandbox,
    tmp_path: Path,
    emulator: Emulator,
    control: EmulatorControl,
    gamelift: Any,
    guard: str,
) -> subprocess.CompletedProcess[str]:
    """`pulumi preview --policy-pack policy` of the fixture project with ``guard``."""
    infrastructure = seed_infrastructure(control, gamelift)
    project = make_project(tmp_path / "project")
    init_stack(pulumi, project, emulator.endpoint_url, infrastructure, guard=guard)
    return pulumi.python_program(
        "preview", "--stack", STACK, "--policy-pack", str(ANALYZER), cwd=project, check=False
    )


def test_preview_with_the_pack_fails_on_an_unguarded_configuration(
    pulumi: PulumiSandbox,
    tmp_path: Path,
    emulator: Emulator,
    control: EmulatorControl,
    gamelift: Any,
) -> None:
    """An automatic-backfill configuration with no guard: the preview fails, the pack names
    the mandatory unguarded-configuration rule, the configuration and the fix."""
    done = preview_with_pack(pulumi, tmp_path, emulator, control, gamelift, "none")
    output = done.stdout + done.stderr

    assert done.returncode != 0, output
    assert "gamelift-backfill@v0.1.0" in output, output
    assert "[mandatory]  unguarded-configuration" in output, output
    assert f"{CONFIGURATION_TYPE}::matchmaking-configuration" in output or (
        "matchmaking-configuration" in output
    )
    assert "has no BackfillGuard" in output
    assert "BackfillGuard(" in output  # the fix, as code


def test_preview_with_the_pack_passes_with_the_guard(
    pulumi: PulumiSandbox,
    tmp_path: Path,
    emulator: Emulator,
    control: EmulatorControl,
    gamelift: Any,
) -> None:
    """The same configuration with a BackfillGuard depending on it: the pack runs and the
    preview succeeds with no violation."""
    done = preview_with_pack(pulumi, tmp_path, emulator, control, gamelift, "package")
    output = done.stdout + done.stderr

    assert done.returncode == 0, output
    assert "gamelift-backfill@v0.1.0" in output, output
    assert "unguarded-configuration" not in output
    assert "mandatory" not in output
