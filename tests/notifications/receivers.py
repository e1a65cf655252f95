"""Real local receivers for delivery tests: an HTTP webhook endpoint that checks the
signature (and can fail its first requests), an aiosmtpd SMTP server, and a server that
accepts connections and never answers."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.server import free_port


def signature_is_valid(secret: str, header: str, body: bytes) -> bool:
    """The verification recipe of docs/notifications.md."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


@dataclass
class WebhookReceiver:
    secret: str
    fail_first: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    bad_signatures: int = 0
    calls: int = 0
    url: str = ""


@contextmanager
def webhook_receiver(secret: str, fail_first: int = 0) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(secret, fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.calls += 1
            if not signature_is_valid(secret, self.headers["Kommentera-Signature"], body):
                receiver.bad_signatures += 1
                self.send_response(401)
            elif receiver.calls <= receiver.fail_first:
                self.send_response(500)
            else:
                receiver.received.append(json.loads(body))
                receiver.headers.append(dict(self.headers))
                self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/kommentera"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class SmtpInbox:
    """What the SMTP server received: each message parsed, and as the raw DATA bytes."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.raw.append(envelope.original_content)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@contextmanager
def smtp_inbox() -> Iterator[tuple[int, SmtpInbox]]:
    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[Message]]]:
    with smtp_inbox() as (port, inbox):
        yield port, inbox.messages


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte (a
    hung webhook receiver or SMTP server); yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()
