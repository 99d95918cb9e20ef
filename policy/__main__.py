"""Pulumi policy pack: the doctor's rules 1 to 3 on every preview and update.

    pulumi preview --policy-pack policy

Each rule is the doctor's own (gamelift_backfill/doctor/rules.py), run on the stack's
resources as pulumi-policy gives them (gamelift_backfill/doctor/from_policy.py). The
repository root goes on the import path so the pack runs from a checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from gamelift_backfill.doctor import from_policy, rules

POLICIES = {
    "unguarded-configuration": (
        rules.unguarded_configurations,
        "A matchmaking configuration with automatic (or unknown) backfill has a BackfillGuard "
        "or BackfillTicket depending on it, so destroy cancels backfill before deleting it.",
    ),
    "delete-skipped": (
        rules.skipped_deletes,
        "No BackfillGuard or BackfillTicket is protected, so destroy runs its delete.",
    ),
    "missing-dependency": (
        rules.missing_dependencies,
        "A guard depends on the configuration, queues and fleets it protects, so the engine "
        "deletes it first.",
    ),
}


def _validate(rule: rules.Rule) -> Any:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for message, urn, _ in from_policy.violations(rule, args.resources):
            report_violation(message, urn)

    return validate


PolicyPack(
    name="gamelift-backfill",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        StackValidationPolicy(name=name, description=description, validate=_validate(rule))
        for name, (rule, description) in POLICIES.items()
    ],
)
