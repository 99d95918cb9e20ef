"""Helpers of the emulator's tests: a player to queue, raw signed requests, a webhook receiver.

Seeding (rule set, queue, configuration) is ``testkit.seeding``, shared with everything else.
"""

from __future__ import annotations

import http.client
import http.server
import json
import threading
from collections.abc import Callable
from types import TracebackType
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
    tamper: Callable[[dict[str, str]], None] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """Send one request as an SDK would (signed with botocore), return status, headers, JSON.

    ``tamper`` may change the signed headers before they are sent.
    """
    headers = {"Content-Type": content_type, **(extra_headers or {})}
    if target is not None:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=endpoint_url + path, data=body, headers=headers)
    if sign:
        SigV4Auth(Credentials(access_key, secret_key), service, region).add_auth(request)
    parts = urlsplit(endpoint_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        sent = dict(request.headers.items())
        if tamper is not None:
            tamper(sent)
        connection.request("POST", path, body=body, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()
    return response.status, answer_headers, json.loads(raw) if raw else None


class EventReceiver:
    """A loopback webhook receiver that records each POSTed event; waits on arrivals,
    never on time (the timeouts are hang guards)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._arrived:  # recorded before the answer lets the next one come
                    receiver.received.append(json.loads(body))
                    receiver._arrived.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/events"

    def wait_for(self, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """The first ``count`` events, once they arrived."""
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return self.received[:count]

    def wait_for_type(self, event_type: str, timeout: float = 60.0) -> dict[str, Any]:
        """The first event of ``event_type``, once it arrived."""
        return self.wait_for_event(lambda e: e["detail"]["type"] == event_type, event_type, timeout)

    def wait_for_event(
        self, wanted: Callable[[dict[str, Any]], bool], what: str, timeout: float = 60.0
    ) -> dict[str, Any]:
        """The first event ``wanted`` accepts (``what`` names it), once it arrived."""

        def found() -> dict[str, Any] | None:
            return next((e for e in self.received if wanted(e)), None)

        with self._arrived:
            assert self._arrived.wait_for(lambda: found() is not None, timeout), what
            event = found()
            assert event is not None
            return event

    def __enter__(self) -> EventReceiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
