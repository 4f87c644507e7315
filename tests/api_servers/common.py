# Shared with the Pipedrive/Salesforce connectors: keep this interface stable.
"""A small threaded HTTP server for mock CRM APIs, with fault injection and request recording.

    server = MockApi(check_auth=lambda req: req.headers.get("Api-Token") == "t")
    server.route("GET", r"/api/3/deals", handler)   # handler(req) -> Reply
    with server:                                      # binds 127.0.0.1 on a free port
        server.url                                    # http://127.0.0.1:<port>
        server.inject("rate_limit", path="/deals", times=2, retry_after=1)
        ...
        server.requests_to("/deals")                  # what the client asked, in order

Faults (`inject(kind, path=..., times=...)`; `path` is a substring of the request path, empty
matches every request; `times` is how many matching requests get the fault):
- `rate_limit`: 429 with `Retry-After: <retry_after>` (a storm: times > 1);
- `server_error`: 500 (`status` to pick another 5xx), then normal answers;
- `unauthorized`: 401 with the API's error body (`times=None`: every request);
- `malformed`: 200 whose body is cut-off JSON;
- `interrupt`: the first `after` matching requests are answered, every later one gets 503
  (an outage in the middle of a sync; `times=None`: until cleared with `clear_faults()`).
Requests answered with a fault are recorded too (`Recorded.fault`).

A handler that raises is a bug of the test server, not a vendor's transient error: the request
is answered 500 (the client sees a failure, never a dropped connection it would retry), the
exception is kept in `errors`, and leaving the `with` block raises it, so the test fails.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    json: Any
    status: int
    fault: str = ""
    at: float = 0.0  # time.monotonic() when it arrived


@dataclass
class Fault:
    kind: str
    path: str = ""
    times: int | None = 1
    retry_after: int = 1
    status: int = 500
    after: int = 0
    seen: int = 0

    def applies(self, path: str) -> bool:
        return self.path in path and (self.times is None or self.times > 0)


Handler = Callable[[Request], Reply]


class ServerError(AssertionError):
    """A route handler of the test server raised: the test is wrong, not the client."""


class MockApi:
    """Routes (method, regex on the path) to handlers; unmatched paths answer 404."""

    def __init__(self, check_auth: Callable[[Request], bool] | None = None,
                 error_body: Callable[[int, str], Any] | None = None):
        self.routes: list[tuple[str, re.Pattern, Handler]] = []
        self.check_auth = check_auth or (lambda req: True)
        self.error_body = error_body or (lambda status, message: {"message": message})
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.errors: list[BaseException] = []  # raised by handlers; raised again by stop()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- set-up ---------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern + r"$"), handler))

    def inject(self, kind: str, path: str = "", times: int | None = 1, **options) -> Fault:
        fault = Fault(kind, path, times, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def requests_to(self, path: str, method: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests
                    if path in r.path and (method is None or r.method == method)]

    # -- life cycle -------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        if self.errors:
            raise ServerError(f"the test server's handler failed {len(self.errors)} time(s): "
                              f"{self.errors[0]!r}") from self.errors[0]

    def start(self) -> None:
        api = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Headers and body go out in separate writes: without this, Nagle's algorithm
                # and delayed ACKs add ~40 ms to every request on a kept-alive connection.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self):
                api._serve(self, "GET")

            def do_POST(self):
                api._serve(self, "POST")

            def log_message(self, *args):  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- serving ----------------------------------------------------------------------------
    def _serve(self, http: BaseHTTPRequestHandler, method: str) -> None:
        arrived = time.monotonic()
        parts = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        req = Request(method, parts.path, parse_qs(parts.query, keep_blank_values=True),
                      {k: v for k, v in http.headers.items()}, http.rfile.read(length))
        try:
            reply, fault = self._answer(req)
        except Exception as exc:  # noqa: BLE001 - kept, and raised when the server stops
            with self._lock:
                self.errors.append(exc)
            reply, fault = Reply(500, self.error_body(500, f"test server error: {exc!r}")), ""
        try:
            body_json = req.json
        except ValueError:
            body_json = None
        with self._lock:
            self.requests.append(Recorded(method, req.path, req.query, body_json, reply.status,
                                          fault, arrived))
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        http.send_response(reply.status)
        http.send_header("Content-Type", "application/json;charset=utf-8")
        http.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            http.send_header(name, value)
        http.end_headers()
        http.wfile.write(body)

    def _answer(self, req: Request) -> tuple[Reply, str]:
        fault = self._take_fault(req.path)
        if fault is not None and fault.kind != "malformed":
            return self._fault_reply(fault), fault.kind
        if not self.check_auth(req):
            return Reply(401, self.error_body(401, "Authentication credentials not found.")), ""
        for method, pattern, handler in self.routes:
            match = pattern.match(req.path)
            if method == req.method and match:
                req.match = match
                if fault is not None:  # malformed: a real page, cut off mid-way
                    body = json.dumps(handler(req).body).encode()
                    return Reply(200, body[: max(1, len(body) // 2)]), fault.kind
                return handler(req), ""
        return Reply(404, self.error_body(404, f"no route for {req.method} {req.path}")), ""

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if not fault.applies(path):
                    continue
                if fault.kind == "interrupt":
                    fault.seen += 1
                    if fault.seen <= fault.after:
                        continue
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    def _fault_reply(self, fault: Fault) -> Reply:
        if fault.kind == "rate_limit":
            return Reply(429, self.error_body(429, "You have reached your rate limit."),
                         {"Retry-After": str(fault.retry_after)})
        if fault.kind == "server_error":
            return Reply(fault.status, self.error_body(fault.status, "Internal error"))
        if fault.kind == "unauthorized":
            return Reply(401, self.error_body(401, "The API key provided is invalid."))
        if fault.kind == "interrupt":
            return Reply(503, self.error_body(503, "Service unavailable"))
        raise ValueError(f"unknown fault {fault.kind!r}")
