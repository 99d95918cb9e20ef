"""Helpers of the emulator's tests: a player to queue, raw signed requests.

Seeding (rule set, queue, configuration) is ``testkit.seeding``, shared with everything else.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

PLAYERS = [{"PlayerId": "player-1", "PlayerAttributes": {"skill": {"N": 12}}}]


def raw_request(
    endpoint_url: str,
    body: bytes,
    target: str | None = "GameLift.DescribeMatchmaking",
    content_type: str = "application/x-amz-json-1.1",
    path: str = "/",
    sign: bool = True,
    access_key: str = "test",
    secret_key: str = "test",
    region: str = "us-east-1",
    service: str = "gamelift",
    extra_headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """Send one request as an SDK would (signed with botocore), return status, headers, JSON."""
    headers = {"Content-Type": content_type, **(extra_headers or {})}
    if target is not None:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=endpoint_url + path, data=body, headers=headers)
    if sign:
        SigV4Auth(Credentials(access_key, secret_key), service, region).add_auth(request)
    parts = urlsplit(endpoint_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers=dict(request.headers.items()))
        response = connection.getresponse()
        raw = response.read()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()
    return response.status, answer_headers, json.loads(raw) if raw else None
