"""Real local servers for the tests: a webhook receiver, a proxy that loses an answer, a server
that never answers, and the admin API of the all-in-one under test. No HTTP is mocked."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

import httpx


@dataclass
class Customer:
    customer_id: str
    api_key: str


class Admin:
    """The all-in-one's admin API (`Authorization: Bearer <admin token>`)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.client = httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=10)

    def create_customer(self) -> Customer:
        tag = uuid.uuid4().hex[:10]
        response = self.client.post("/admin/test-customer", json={"name": f"Python SDK {tag}", "email": f"py-{tag}@example.test"})
        assert response.status_code == 201, response.text
        body = response.json()
        return Customer(body["customer_id"], body["api_key"])

    def set_rate_limit(self, customer_id: str, per_second: int) -> None:
        response = self.client.patch(f"/admin/customers/{customer_id}", json={"rate_limit_per_second": per_second})
        assert response.status_code == 200, response.text

    def close(self) -> None:
        self.client.close()


@dataclass
class Received:
    path: str
    headers: List[Tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next(value for key, value in self.headers if key.lower() == name)


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that answers 200 to every POST and keeps what it got."""

    def __init__(self) -> None:
        self.requests: List[Received] = []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.changed:
                    receiver.requests.append(Received(self.path, list(self.headers.items()), body))
                    receiver.changed.notify_all()
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(self, path: str, count: int, timeout: float = 10.0) -> List[Received]:
        """The first `count` requests to `path`, once they came (fails after `timeout` s)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                got = [r for r in self.requests if r.path == path]
                if len(got) >= count:
                    return got[:count]
                left = deadline - time.monotonic()
                assert left > 0, f"{len(got)} of {count} webhooks to {path} within {timeout} s"
                self.changed.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class DroppingProxy:
    """A TCP proxy on 127.0.0.1 in front of the server. After `drop_next_response()`, the next
    bytes the server sends back are not forwarded: that connection is closed instead. The request
    reached the server (and was done); its answer is lost, as when a connection dies mid-call."""

    def __init__(self, target: Tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.drop_armed = False
        self.dropped = threading.Event()
        self.sockets: List[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def drop_next_response(self) -> None:
        with self.lock:
            self.drop_armed = True
            self.dropped.clear()

    def cut(self) -> None:
        """Drops every open connection (new ones still go through): a connection lost mid-stream."""
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if answers:
                    with self.lock:
                        drop, self.drop_armed = self.drop_armed, False
                    if drop:
                        self.dropped.set()
                        break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.closed = True
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                try:
                    s.close()
                except OSError:
                    pass


class SilentServer:
    """Accepts connections and reads, never answers: every call to it times out."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()


def closed_port_url() -> str:
    """A loopback URL nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def inbox_payloads(url: str, api_key: str) -> Dict[str, Any]:
    """Every stored event's payload by id, read with plain httpx (not the SDK under test)."""
    found: Dict[str, Any] = {}
    cursor: Optional[str] = None
    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {api_key}"}, timeout=10) as client:
        while True:
            params: Dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/inbox", params=params).json()
            for event in page["events"]:
                assert event["event_id"] not in found
                found[event["event_id"]] = event["payload"]
            if not page["has_more"]:
                return found
            cursor = page["cursor"]


def json_body(request: httpx.Request) -> Any:
    return json.loads(request.content)
