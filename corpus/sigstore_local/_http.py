"""A tiny JSON-over-HTTP server on 127.0.0.1, one per local Sigstore service.

The standard library server is enough: the clients are sigstore-python's `requests`
sessions and `urllib3` calls from the same process, a handful of requests per test.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_logger = logging.getLogger(__name__)

# Requests carry a CSR, a DSSE envelope or a signature: a few kilobytes. The cap only
# stops a confused client from making the server buffer something huge.
_MAX_BODY_BYTES = 4 * 1024 * 1024
# Never another interface: these services hand out certificates to anyone who asks.
_LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Request:
    """An incoming request, already read off the socket."""

    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON; a 400 for the client if it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise HTTPError(HTTPStatus.BAD_REQUEST, f"request body is not JSON: {exc}") from exc

    def bearer_token(self) -> str:
        """The credential of an `Authorization: Bearer ...` header (any case)."""
        scheme, _, credential = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credential:
            raise HTTPError(HTTPStatus.UNAUTHORIZED, "missing 'Authorization: Bearer <token>' header")
        return credential.strip()


@dataclass(frozen=True)
class Response:
    """A JSON response."""

    body: Any
    status: HTTPStatus = HTTPStatus.OK


class HTTPError(Exception):
    """Raised by a route to answer with `{"code": ..., "message": ...}`, Rekor's and Fulcio's error shape."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


Route = Callable[[Request], Response]


class LoopbackServer:
    """Serves `routes` (keyed by method and path) on a free port of 127.0.0.1, in a thread."""

    def __init__(self, name: str, routes: Mapping[tuple[str, str], Route]) -> None:
        self._name = name
        self._routes = dict(routes)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:40123`; only valid while running."""
        if self._server is None:
            raise RuntimeError(f"local {self._name} server is not running")
        return f"http://{_LOOPBACK}:{self._server.server_port}"

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError(f"local {self._name} server is already running")
        server = ThreadingHTTPServer((_LOOPBACK, 0), self._handler_class())
        # Handler threads must not keep the interpreter alive if a test forgets to stop us.
        server.daemon_threads = True
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sigstore-local-{self._name}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        _logger.debug("local %s listening on %s", self._name, self.url)

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        routes, name = self._routes, self._name

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: one request per connection, so no handler thread lingers on an idle
            # keep-alive socket after `stop()`.
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def _dispatch(self, method: str) -> None:
                url = urlsplit(self.path)
                route = routes.get((method, url.path))
                try:
                    if route is None:
                        raise HTTPError(HTTPStatus.NOT_FOUND, f"no route for {method} {url.path}")
                    length = int(self.headers.get("Content-Length") or 0)
                    if length > _MAX_BODY_BYTES:
                        raise HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
                    request = Request(
                        query=dict(parse_qsl(url.query)),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=self.rfile.read(length) if length else b"",
                    )
                    response = route(request)
                except HTTPError as exc:
                    response = Response({"code": int(exc.status), "message": exc.message}, exc.status)
                except Exception:
                    # A bug in the local service: say so to the client instead of hanging it.
                    _logger.exception("local %s failed on %s %s", name, method, url.path)
                    status = HTTPStatus.INTERNAL_SERVER_ERROR
                    response = Response({"code": int(status), "message": "internal error"}, status)
                payload = json.dumps(response.body).encode()
                self.send_response(response.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                # The default writes every request line to stderr; keep it at debug level.
                # Request lines carry no secrets: tokens travel in headers only.
                _logger.debug("local %s: " + format, name, *args)

        return Handler
