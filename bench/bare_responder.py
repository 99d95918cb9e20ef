"""The baseline of ``bench.bench_emulator``: a bare standard-library keep-alive responder.

``http.server`` (threaded, HTTP/1.1 keep-alive, TCP_NODELAY, one write per answer) that
reads each request and answers ``200 {}`` without looking at it: no SigV4, no
validation, no state. Run as ``python -m bench.bare_responder``; prints its URL first.
"""

from __future__ import annotations

import http.server
import socket

_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n{}"
)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.wfile.write(_ANSWER)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: logging would be work the baseline does not do."""


def main() -> None:
    """Serve on a free loopback port until killed."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
