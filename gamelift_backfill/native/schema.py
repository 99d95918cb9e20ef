"""The Pulumi package schema of `gamelift-backfill`, made from the one declaration
(`gamelift_backfill.declaration`) in the native provider's spelling (camelCase)."""

from __future__ import annotations

import json
from typing import Any

from gamelift_backfill.declaration import (
    CONFIG,
    NATIVE_SPELLING,
    PACKAGE,
    PROVIDER_DESCRIPTION,
    RESOURCES,
    Property,
    ResourceDeclaration,
)

VERSION = "0.1.0"


def _type(prop: Property) -> dict[str, Any]:
    if prop.type == "string[]":
        return {"type": "array", "items": {"type": "string"}}
    if prop.type == "boolean":
        return {"type": "boolean"}
    if prop.type == "object[]":
        # GameLift's Player objects keep GameLift's own (PascalCase) keys.
        return {"type": "array", "items": {"$ref": "pulumi.json#/Any"}}
    return {"type": prop.type}


def _spec(prop: Property, properties: tuple[Property, ...]) -> dict[str, Any]:
    spec = {**_type(prop), "description": NATIVE_SPELLING.describe(prop, properties)}
    # Defaults and replacement are the provider's to apply (Check, Diff), and the
    # descriptions say them: a schema `default` or `replaceOnChanges` would make every
    # generated SDK apply them again on its own.
    if prop.secret:
        spec["secret"] = True
    return spec


def _resource(resource: ResourceDeclaration) -> dict[str, Any]:
    props = resource.properties
    inputs = resource.inputs
    return {
        "description": NATIVE_SPELLING.render(resource.description, props),
        # Every property is an output: inputs are stored back as resolved.
        "properties": {p.camel: _spec(p, props) for p in props},
        "required": [p.camel for p in props if p.required or not p.input],
        "inputProperties": {p.camel: _spec(p, props) for p in inputs},
        "requiredInputs": [p.camel for p in inputs if p.required],
    }


def _config() -> dict[str, Any]:
    return {p.camel: _spec(p, CONFIG) for p in CONFIG}


def package_schema(
    version: str = VERSION, resources: tuple[ResourceDeclaration, ...] = RESOURCES
) -> dict[str, Any]:
    """The schema of ``resources`` as a dict (GetSchema sends it as JSON)."""
    return {
        "name": PACKAGE,
        "displayName": "GameLift Backfill",
        "version": version,
        "description": "Cancels Amazon GameLift FlexMatch backfill before teardown.",
        "keywords": ["pulumi", "aws", "gamelift", "flexmatch", "category/cloud"],
        "license": "Apache-2.0",
        "config": {"variables": _config()},
        "provider": {
            "description": PROVIDER_DESCRIPTION,
            "properties": _config(),
            "inputProperties": _config(),
        },
        "resources": {r.token: _resource(r) for r in resources},
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
