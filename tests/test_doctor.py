"""`doctor` over state exports: one committed fixture per finding plus a clean stack, the
rules on every configuration type, the command line's text, JSON and exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from doctor_helpers import (
    CONFIG_TYPE,
    FIXTURES,
    export,
    fixture,
    guard,
    load,
    resource,
    run_cli,
    stack_of,
    urn,
    write,
)
from regenerate_doctor_states import generate, render

from gamelift_backfill.doctor import rules
from gamelift_backfill.doctor.command import FINDINGS_EXIT_CODE
from gamelift_backfill.doctor.model import DYNAMIC_GUARD, DYNAMIC_TICKET
from gamelift_backfill.doctor.state import parse_export

ROOT = Path(__file__).resolve().parents[1]
P = "urn:pulumi:test::gamelift-backfill::"
CONFIG = P + "aws:cloudcontrol/resource:Resource::matchmaking-configuration"
QUEUE = P + "aws:gamelift/gameSessionQueue:GameSessionQueue::queue"
GUARD = P + DYNAMIC_GUARD + "::backfill-guard"
ADOPTED = P + DYNAMIC_TICKET + "::ticket-auto-ticket-7"

EXPECTED: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "clean": [],
    "encrypted": [],
    "unguarded_configuration": [("unguarded-configuration", (CONFIG,))],
    "delete_skipped": [("delete-skipped", (ADOPTED,)), ("delete-skipped", (GUARD,))],
    "missing_dependency": [("missing-dependency", (GUARD, CONFIG, QUEUE))],
    "pending_operations": [
        ("pending-operation", (P + DYNAMIC_TICKET + "::ticket-auto-ticket-8",)),
        ("pending-delete", (GUARD,)),
    ],
    "provider_module_missing": [("provider-module-missing", (GUARD,))],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_gives_exactly_its_finding(name: str) -> None:
    """Each committed state yields its own finding(s), on the resources at fault, and no other."""
    findings = rules.check_state(load(name))
    assert sorted((f.rule, f.urns) for f in findings) == sorted(EXPECTED[name])
    for finding in findings:
        assert finding.at_destroy
        assert finding.fix


def test_fixtures_are_what_the_regeneration_script_writes() -> None:
    """The committed fixtures are exactly the script's output (program under mocks + mistakes)."""
    generated = generate()
    assert sorted(generated) == sorted(p.stem for p in FIXTURES.glob("*.json"))
    for name, state in generated.items():
        assert fixture(name).read_text() == render(state), name


def test_an_interrupted_delete_of_a_replaced_guard_is_told_once_on_the_replaced_one() -> None:
    """A pending `deleting` with the ID of the replaced guard (`delete: true`) belongs to it,
    not to the live guard of the same URN: one pending-delete finding, marked interrupted."""
    live = guard(fleet_ids=["fleet-1"])
    old = {**guard(fleet_ids=["fleet-1"]), "id": "old-id", "delete": True}
    pending = [{"type": "deleting", "resource": old}]
    stack = parse_export(json.dumps(export(live, old, pending=pending)).encode())
    assert stack.resources[live["urn"]].pending_operation is None
    (replaced,) = stack.replaced
    assert replaced.pending_operation == "deleting"
    findings = rules.pending_operations(stack)
    assert [(f.rule, f.details) for f in findings] == [
        ("pending-delete", {"operation": "delete", "interrupted": True})
    ]
    assert "`pulumi cancel`" in findings[0].fix


def test_encrypted_export_says_what_it_could_not_check() -> None:
    """Without --show-secrets the provider modules cannot be read, and the report says so."""
    stack = load("encrypted")
    assert rules.check_state(stack) == []
    assert any("--show-secrets" in note and "provider modules" in note for note in stack.notes)


# -- rule 1 over every configuration type -------------------------------------------------


DYNAMIC_CONFIG = "pulumi-python:dynamic/gamelift:MatchmakingConfiguration"


def _cloud_control(name: str, state: object) -> dict[str, object]:
    inputs = {"typeName": "AWS::GameLift::MatchmakingConfiguration", "desiredState": state}
    return resource("aws:cloudcontrol/resource:Resource", name, id=name, inputs=inputs)


@pytest.mark.parametrize(
    ("configuration", "flagged"),
    [
        (resource(CONFIG_TYPE, "c", inputs={"backfillMode": "AUTOMATIC"}), True),
        (resource(CONFIG_TYPE, "c", inputs={"backfillMode": "MANUAL"}), False),
        (
            resource(
                "aws:gamelift/matchmakingConfiguration:MatchmakingConfiguration",
                "c",
                inputs={"backfillMode": "AUTOMATIC"},
            ),
            True,
        ),
        (_cloud_control("c", json.dumps({"Name": "c", "BackfillMode": "AUTOMATIC"})), True),
        (_cloud_control("c", json.dumps({"Name": "c"})), False),  # GameLift's default: MANUAL
        (
            _cloud_control(
                "c", json.dumps({"BackfillMode": "AUTOMATIC", "FlexMatchMode": "STANDALONE"})
            ),
            False,
        ),
        (
            _cloud_control(
                "c",
                {
                    "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                    "ciphertext": "v1:abc",
                },
            ),
            True,  # encrypted: unknown mode
        ),
        (
            resource(
                "aws:cloudcontrol/resource:Resource", "r", inputs={"typeName": "AWS::S3::Bucket"}
            ),
            False,
        ),
        # A program's own dynamic resource (tests/fixtures/matchmaking.py).
        (resource(DYNAMIC_CONFIG, "c", inputs={"backfill_mode": "AUTOMATIC"}), True),
        (resource(DYNAMIC_CONFIG, "c", inputs={"backfill_mode": "MANUAL"}), False),
        (
            resource(
                "pulumi-nodejs:dynamic:MatchmakingConfiguration",
                "c",
                inputs={"backfillMode": "AUTOMATIC"},
            ),
            True,
        ),
        (
            resource("pulumi-python:dynamic:Resource", "r", inputs={"backfill_mode": "AUTOMATIC"}),
            False,
        ),
    ],
)
def test_unguarded_configuration_triggers_on_automatic_or_unknown_backfill(
    configuration: dict[str, object], flagged: bool
) -> None:
    """Every configuration type counts; only automatic or unknown backfill is a finding."""
    findings = rules.unguarded_configurations(stack_of(configuration))
    assert [f.urns for f in findings] == ([(configuration["urn"],)] if flagged else [])


def test_a_dynamic_configuration_names_its_queue_and_fleets_in_the_fix() -> None:
    """A dynamic configuration's snake_case queue ARNs lead the fix to the queue's fleets."""
    fleet = resource(
        "aws:gamelift/fleet:Fleet", "f", id="fleet-1", outputs={"arn": "arn:x:fleet/fleet-1"}
    )
    queue = resource(
        "aws:gamelift/gameSessionQueue:GameSessionQueue",
        "q",
        id="q",
        outputs={"arn": "arn:x:gamesessionqueue/q", "destinations": ["arn:x:fleet/fleet-1"]},
    )
    config = resource(
        DYNAMIC_CONFIG,
        "c",
        id="cfg",
        outputs={
            "name": "cfg",
            "backfill_mode": "AUTOMATIC",
            "game_session_queue_arns": ["arn:x:gamesessionqueue/q"],
        },
    )
    (finding,) = rules.unguarded_configurations(stack_of(fleet, queue, config))
    assert finding.details["configuration_name"] == "cfg"
    assert finding.details["queues"] == [queue["urn"]]
    assert finding.details["fleets"] == [fleet["urn"]]


def test_a_guard_depending_through_another_resource_guards_the_configuration() -> None:
    """A guard that depends on the configuration through a chain of resources protects it."""
    config = resource(CONFIG_TYPE, "c", inputs={"backfillMode": "AUTOMATIC"})
    middle = resource("random:index:RandomId", "m", dependencies=[config["urn"]])
    protector = {**guard(fleet_ids=["fleet-1"]), "propertyDependencies": {"x": [middle["urn"]]}}
    assert rules.check_state(stack_of(config, middle, protector)) == []


def test_a_guard_naming_the_configuration_without_depending_on_it_is_rule_3() -> None:
    """Naming the configuration by a string is not an ordering: it is a missing dependency."""
    config = resource(
        CONFIG_TYPE, "c", id="cfg", inputs={"backfillMode": "AUTOMATIC", "name": "cfg"}
    )
    fleet = resource(
        "aws:gamelift/fleet:Fleet", "f", id="fleet-1", outputs={"arn": "arn:x:fleet/fleet-1"}
    )
    protector = guard(fleet_ids=["fleet-1"], configuration_name="cfg")
    findings = rules.check_state(stack_of(config, fleet, protector))
    assert [(f.rule, f.urns) for f in findings] == [
        ("missing-dependency", (protector["urn"], config["urn"], fleet["urn"]))
    ]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("protect", True),
        ("retainOnDelete", True),
        ("deletedWith", urn(CONFIG_TYPE, "c")),
        ("external", True),
    ],
)
def test_every_option_that_skips_the_delete_is_found(option: str, value: object) -> None:
    """protect, retainOnDelete, deletedWith and external each say StopMatchmaking never runs."""
    findings = rules.skipped_deletes(stack_of({**guard(), option: value}))
    assert len(findings) == 1
    assert "never runs" in findings[0].at_destroy


def test_a_renamed_provider_class_is_found_in_a_module_that_still_exists() -> None:
    """A module that imports but no longer defines the pickled class is a finding too."""
    import base64
    import pickletools

    body = pickletools.optimize(
        b"\x80\x04\x8c\x18providers.backfill_guard\x94\x8c\x0bRenamedAway\x94\x93\x94)\x81\x94."
    )
    provider = base64.b64encode(body).decode()
    findings = rules.provider_modules(stack_of(guard(__provider=provider)), [str(ROOT)])
    assert [(f.rule, f.details["name"]) for f in findings] == [
        ("provider-module-missing", "RenamedAway")
    ]


# -- the command line -----------------------------------------------------------------


def test_clean_stack_exits_zero_with_an_empty_json_findings_list(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Nothing to fix: exit 0, one success envelope with no findings."""
    code, out, _ = run_cli(capsys, "doctor", str(fixture("clean")), "--json")
    assert code == 0
    envelope = json.loads(out)
    assert envelope["success"] is True
    assert envelope["data"]["findings"] == []
    assert envelope["data"]["resources"] == 11


def test_findings_exit_8_with_one_json_object_per_finding(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Findings: the documented exit status 8 and each finding's URNs and fix in the envelope."""
    code, out, _ = run_cli(capsys, "--json", "doctor", str(fixture("delete_skipped")))
    assert code == FINDINGS_EXIT_CODE == 8
    findings = json.loads(out)["data"]["findings"]
    assert [f["rule"] for f in findings] == ["delete-skipped", "delete-skipped"]
    assert {u for f in findings for u in f["urns"]} == {GUARD, ADOPTED}
    assert any(f"pulumi state unprotect '{ADOPTED}'" in f["fix"] for f in findings)


def test_text_report_names_what_happens_the_urn_and_the_fix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The readable report has the finding, its URN, what destroy does and the command."""
    code, out, err = run_cli(capsys, "doctor", str(fixture("unguarded_configuration")))
    assert code == 8
    assert err == ""
    assert "[unguarded-configuration]" in out
    assert CONFIG in out
    assert "DeleteMatchmakingConfiguration" in out
    assert "gamelift-backfill drain --fleet-id fleet-aaaa --fleet-id fleet-bbbb" in out


def test_state_from_stdin_through_the_real_module(tmp_path: Path) -> None:
    """`pulumi stack export | python -m providers doctor -` reads standard input."""
    result = subprocess.run(
        [sys.executable, "-m", "providers", "doctor", "-", "--json"],
        input=fixture("missing_dependency").read_bytes(),
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 8, result.stderr
    assert json.loads(result.stdout)["data"]["findings"][0]["rule"] == "missing-dependency"


# -- hostile input ----------------------------------------------------------------------


def _no_traceback(code: int, out: str, err: str) -> dict[str, str]:
    assert "Traceback" not in out + err
    assert code == 2
    error: dict[str, str] = json.loads(out)["error"]
    assert error["code"] == "VALIDATION_ERROR"
    return error


def test_truncated_export_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cut-off export: exit 2, says where the JSON ends and how to export again."""
    path = tmp_path / "cut.json"
    path.write_bytes(fixture("clean").read_bytes()[:5000])
    error = _no_traceback(*run_cli(capsys, "doctor", str(path), "--json"))
    assert "truncated" in error["message"]
    assert "pulumi stack export" in error["message"]


@pytest.mark.parametrize("version", [1, 2, 4, "3", None])
def test_wrong_deployment_version_is_a_clear_error(
    version: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only deployment version 3 is read; any other says which version it found."""
    document = {**export(), "version": version}
    error = _no_traceback(*run_cli(capsys, "doctor", str(write(tmp_path, document)), "--json"))
    assert f"deployment version {version!r} is not supported" in error["message"]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"[]",
        b"\xff\xfe",
        b"[" * 200_000,
        b'{"version": 3, "deployment": {"resources": 5}}',
        b'{"version": 3, "deployment": {"resources": [{"urn": 1}]}}',
    ],
)
def test_malformed_exports_are_clear_errors(
    content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Empty, not an object, not UTF-8, nested 200,000 deep, wrong shapes: exit 2, no traceback."""
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    _no_traceback(*run_cli(capsys, "doctor", str(path), "--json"))


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A path that does not exist: exit 2 naming it."""
    error = _no_traceback(*run_cli(capsys, "doctor", str(tmp_path / "nope.json"), "--json"))
    assert "nope.json" in error["message"]


def test_megabytes_of_resources_are_read_and_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """20,000 resources in a 20,000-deep dependency chain (megabytes): the right finding."""
    config = resource(CONFIG_TYPE, "c", inputs={"backfillMode": "AUTOMATIC"})
    chain = [config]
    for index in range(20_000):
        previous = chain[-1]["urn"]
        chain.append(
            resource(
                "random:index:RandomId",
                f"r{index}",
                dependencies=[previous],
                inputs={"padding": "x" * 100},
            )
        )
    unguarded = resource(CONFIG_TYPE, "lonely", inputs={"backfillMode": "AUTOMATIC"})
    protector = guard(fleet_ids=["fleet-1"])
    protector["dependencies"] = [chain[-1]["urn"]]
    path = write(tmp_path, export(*chain, unguarded, protector))
    assert path.stat().st_size > 3_000_000
    code, out, err = run_cli(capsys, "doctor", str(path), "--json")
    assert code == 8, err
    findings = json.loads(out)["data"]["findings"]
    assert [(f["rule"], f["urns"]) for f in findings] == [
        ("unguarded-configuration", [unguarded["urn"]])
    ]


def test_troubleshooting_doc_shows_what_the_doctor_really_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/troubleshooting.md's doctor output is the command's output on the fixture, verbatim."""
    monkeypatch.chdir(ROOT)
    readme = (ROOT / "docs" / "troubleshooting.md").read_text()
    command = "python -m providers doctor tests/fixtures/state/doctor/unguarded_configuration.json"
    block = readme.split(f"$ {command}; echo $?\n", 1)[1].split("```", 1)[0]
    code, out, _ = run_cli(capsys, *command.split()[3:])
    assert block == out + f"{code}\n"


def test_help_describes_the_command_and_its_exit_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`doctor --help` prints its usage (STATE, --live) and the findings exit status."""
    code, out, _ = run_cli(capsys, "doctor", "--help")
    assert code == 0
    assert "STATE" in out
    assert "--live" in out
    assert "exit 8" in out


def test_an_export_over_the_size_limit_is_refused_before_parsing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the size limit (512 MiB; 1 KiB in this test) the input is refused, not read whole."""
    from gamelift_backfill.doctor import state

    monkeypatch.setattr(state, "MAX_EXPORT_BYTES", 1024)
    error = _no_traceback(*run_cli(capsys, "doctor", str(fixture("clean")), "--json"))
    assert "larger than" in error["message"]


@pytest.mark.parametrize(
    ("operation", "says"),
    [
        ("creating", "--clear-pending-creates"),
        ("deleting", "`pulumi destroy` again"),
        ("updating", "`pulumi refresh`, then `pulumi destroy`"),
    ],
)
def test_each_pending_operation_says_what_refresh_or_destroy_will_do(
    operation: str, says: str
) -> None:
    """An interrupted create, delete or update of a guard or a configuration: its own fix."""
    protector = guard(fleet_ids=["fleet-1"], configuration_name="cfg")
    config = resource(CONFIG_TYPE, "c", inputs={"backfillMode": "MANUAL"})
    document = export(
        protector,
        config,
        pending=[
            {"resource": protector, "type": operation},
            {"resource": config, "type": operation},
        ],
    )
    findings = rules.pending_operations(parse_export(json.dumps(document).encode()))
    assert [f.urns for f in findings] == [(protector["urn"],), (config["urn"],)]
    assert all(says in f.fix for f in findings)


# -- rule 7: the opt-in that turns automatic backfill off -----------------------------------


@pytest.mark.parametrize(
    ("mode", "opt_in", "external", "recommended"),
    [
        ("AUTOMATIC", None, False, True),
        ("AUTOMATIC", False, False, True),
        ("AUTOMATIC", True, False, False),
        ("MANUAL", None, False, False),
        ("AUTOMATIC", None, True, False),
    ],
)
def test_a_guard_of_a_configuration_of_the_same_stack_is_told_to_turn_automatic_backfill_off(
    mode: str, opt_in: bool | None, external: bool, recommended: bool
) -> None:
    """A guard depending on an AUTOMATIC configuration that the stack itself creates is
    recommended `disableAutomaticBackfill` (a note: exit status and findings unchanged),
    unless it sets it; a MANUAL or external (someone else's) configuration is not."""
    config = resource(
        CONFIG_TYPE,
        "c",
        id="cfg",
        inputs={"backfillMode": mode, "name": "cfg"},
        **({"external": True} if external else {}),
    )
    options: dict[str, Any] = {} if opt_in is None else {"disable_automatic_backfill": opt_in}
    protector = {
        **guard(fleet_ids=["fleet-1"], configuration_name="cfg", **options),
        "dependencies": [config["urn"]],
    }
    stack = stack_of(config, protector)
    assert rules.check_state(stack) == []
    notes = [n for n in stack.notes if "disableAutomaticBackfill" in n]
    if recommended:
        (note,) = notes
        assert "guards matchmaking configuration cfg, a resource of this stack" in note
        assert "BackfillMode to MANUAL" in note
    else:
        assert notes == []


def test_the_recommendation_is_shown_with_exit_status_zero(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`doctor --json` on a well-guarded stack whose configuration is AUTOMATIC: exit 0, no
    finding, and the recommendation among the notes."""
    config = resource(CONFIG_TYPE, "c", id="cfg", inputs={"backfillMode": "AUTOMATIC"})
    protector = {**guard(fleet_ids=["fleet-1"]), "dependencies": [config["urn"]]}
    path = write(tmp_path, export(config, protector))
    code, out, _ = run_cli(capsys, "doctor", str(path), "--json")
    data = json.loads(out)["data"]
    assert (code, data["findings"]) == (0, [])
    assert any("disableAutomaticBackfill" in note for note in data["notes"])
