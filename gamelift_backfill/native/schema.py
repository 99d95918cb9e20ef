"""The Pulumi package schema of `gamelift-backfill`, made from `gamelift_backfill.reference`."""

from __future__ import annotations

import json
from typing import Any

from gamelift_backfill.reference import CONFIG, PACKAGE, PROVIDER_DESCRIPTION, RESOURCES, Property

VERSION = "0.1.0"


def _type(prop: Property) -> dict[str, Any]:
    if prop.type == "string[]":
        return {"type": "array", "items": {"type": "string"}}
    if prop.type == "object[]":
        # GameLift's Player objects keep GameLift's own (PascalCase) keys.
        return {"type": "array", "items": {"$ref": "pulumi.json#/Any"}}
    return {"type": prop.type}


def _spec(prop: Property) -> dict[str, Any]:
    spec = {**_type(prop), "description": prop.description}
    if prop.secret:
        spec["secret"] = True
    return spec


def _resource(props: tuple[Property, ...], description: str) -> dict[str, Any]:
    inputs = [p for p in props if p.input]
    return {
        "description": description,
        # Every property is an output: inputs are stored back as resolved.
        "properties": {p.name: _spec(p) for p in props},
        "required": [p.name for p in props if p.required or not p.input],
        "inputProperties": {p.name: _spec(p) for p in inputs},
        "requiredInputs": [p.name for p in inputs if p.required],
    }


def package_schema(version: str = VERSION) -> dict[str, Any]:
    """The schema as a dict (GetSchema sends it as JSON)."""
    return {
        "name": PACKAGE,
        "displayName": "GameLift Backfill",
        "version": version,
        "description": "Cancels Amazon GameLift FlexMatch backfill before teardown.",
        "keywords": ["pulumi", "aws", "gamelift", "flexmatch", "category/cloud"],
        "license": "Apache-2.0",
        "config": {"variables": {p.name: _spec(p) for p in CONFIG}},
        "provider": {
            "description": PROVIDER_DESCRIPTION,
            "properties": {p.name: _spec(p) for p in CONFIG},
            "inputProperties": {p.name: _spec(p) for p in CONFIG},
        },
        "resources": {r.token: _resource(r.properties, r.description) for r in RESOURCES},
        "language": {
            "nodejs": {"packageName": "@gamelift-backfill/pulumi", "respectSchemaVersion": True},
            "python": {"packageName": "pulumi_gamelift_backfill", "respectSchemaVersion": True},
            "csharp": {"rootNamespace": "GameLiftBackfill", "respectSchemaVersion": True},
            "go": {
                "importBasePath": "github.com/gamelift-backfill/pulumi-gamelift-backfill/sdk/go",
                "respectSchemaVersion": True,
            },
        },
    }


def schema_json(version: str = VERSION) -> str:
    """The schema as GetSchema returns it."""
    return json.dumps(package_schema(version), indent=2, sort_keys=True)
