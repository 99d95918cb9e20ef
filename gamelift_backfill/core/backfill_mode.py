"""Turning a configuration's automatic backfill off: the opt-in that removes the cause.

On a configuration whose ``BackfillMode`` is ``MANUAL`` GameLift starts no automatic
backfill ticket (AWS documents the mode; the emulator models it), so a drain after this
call has no replacement ticket to wait for. The change is to a configuration that may
belong to others: front ends call it only when the user asked for it.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .errors import translate

UPDATE = "UpdateMatchmakingConfiguration"
DESCRIBE = "DescribeMatchmakingConfigurations"


def disable_automatic_backfill(client: Any, configuration_name: str) -> None:
    """Set the configuration's BackfillMode to MANUAL (name or ARN).

    A configuration GameLift does not know is a no-op, not an error: a configuration that
    is already gone starts no backfill, and a teardown must not fail because of it. Every
    other failure is raised translated (``errors.translate``), naming the configuration.
    """
    meta = getattr(client, "meta", None)
    try:
        client.update_matchmaking_configuration(Name=configuration_name, BackfillMode="MANUAL")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NotFoundException":
            return
        raise _translated(exc, configuration_name, meta, UPDATE) from exc
    except Exception as exc:
        raise _translated(exc, configuration_name, meta, UPDATE) from exc


def _translated(exc: Exception, configuration_name: str, meta: Any, operation: str) -> Exception:
    error = translate(
        exc,
        operation=operation,
        region=getattr(meta, "region_name", None),
        endpoint_url=getattr(meta, "endpoint_url", None),
    )
    if configuration_name not in error.message:
        error.message = f"{error.message} (configuration {configuration_name})"
        error.args = (error.message,)
    return error


def configuration_backfill_mode(client: Any, configuration: str) -> str | None:
    """The configuration's BackfillMode (name or ARN); None when GameLift does not know it
    (a configuration that is gone starts no backfill). One DescribeMatchmakingConfigurations."""
    meta = getattr(client, "meta", None)
    try:
        response = client.describe_matchmaking_configurations(Names=[configuration])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NotFoundException":
            return None
        raise _translated(exc, configuration, meta, DESCRIBE) from exc
    except Exception as exc:
        raise _translated(exc, configuration, meta, DESCRIBE) from exc
    found = response.get("Configurations") or []
    return str(found[0].get("BackfillMode") or "MANUAL") if found else None
