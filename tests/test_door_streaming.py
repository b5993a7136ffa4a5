"""Bodies too large, unsigned or forged are refused while they stream, through the real
server (`ventanilla serve`, uvicorn): it answers early and stops reading, so no route ever
holds more than its limit, whatever a client sends.

Each test tries to send far more than any limit, in chunks, over a raw socket with a small
send buffer, and counts what the server let through before refusing it and closing. Had the
server kept reading (as it did when the WhatsApp webhook read the whole body before checking
the signature), every byte would have gone through and the count would be the whole body.
"""

import select
import socket
import time
from dataclasses import dataclass

import pytest

pytest.register_assert_rewrite("tests.browser_fixtures")
from tests.browser_fixtures import ServerProcess  # noqa: E402
from tests.fakes.payloads import wa_signature  # noqa: E402

pytest_plugins = ("tests.browser_fixtures",)

APP_SECRET = "secreto-de-la-app-de-prueba"
MIB = 1024 * 1024
ATTEMPT = 256 * MIB  # what each client tries to send
# What may pass before the server's refusal is seen: the route's limit plus the kernel's
# socket buffers at both ends (a few MB each on loopback).
SLACK = 32 * MIB
CHUNK = 64 * 1024
FILLER = b"a" * CHUNK  # inside a JSON string: no nesting, the depth check never trips


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"VENTANILLA_WHATSAPP_APP_SECRET": APP_SECRET, "VENTANILLA_WHATSAPP_VERIFY_TOKEN": "v"}


@dataclass
class Outcome:
    status: int | None  # the answer's status, if it arrived before the connection closed
    sent: int  # body bytes the server let the client send


def _status(head: bytes) -> int | None:
    line = head.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 and line[1].isdigit() else None


def stream_post(
    server: ServerProcess, path: str, headers: dict[str, str], *, length: bool
) -> Outcome:
    """POST a JSON body of ATTEMPT bytes in chunks (with a Content-Length that says so, or
    chunked), reading the answer as soon as it comes; stop when the server closes or stops
    taking bytes."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHUNK)
    sock.settimeout(15)  # the server took nothing for this long: it stopped reading
    framing = f"Content-Length: {ATTEMPT}" if length else "Transfer-Encoding: chunked"
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", framing]
    head += [f"{k}: {v}" for k, v in {"Content-Type": "application/json", **headers}.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    answer, sent = b"", 0
    first = b'{"entry": "' + FILLER[11:]
    try:
        while sent < ATTEMPT:
            if select.select([sock], [], [], 0)[0]:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
            body = first if sent == 0 else FILLER
            sock.sendall(body if length else b"%x\r\n%s\r\n" % (len(body), body))
            sent += CHUNK
        while b"\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass
    finally:
        sock.close()
    return Outcome(_status(answer), sent)


def logged(server: ServerProcess, text: str, timeout: float = 10) -> bool:
    """Whether the server printed a line containing `text` (within `timeout` seconds: its
    output is read by a thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in line for line in server.lines):
            return True
        time.sleep(0.05)
    return False


def test_an_unsigned_whatsapp_body_is_refused_before_it_is_read(server: ServerProcess) -> None:
    outcome = stream_post(server, "/whatsapp/webhook", {}, length=False)
    assert outcome.sent < SLACK, f"the server read {outcome.sent} bytes of an unsigned body"
    assert outcome.status in (401, None)
    assert logged(server, "whatsapp webhook without signature")


def test_oversized_bodies_are_cut_off_at_their_route_limit(server: ServerProcess) -> None:
    """A forged signature on a body over the webhook limit, announced (Content-Length) or
    chunked, and a web chat message over the chat's limit."""
    forged = {"X-Hub-Signature-256": wa_signature(b"otra cosa", APP_SECRET)}
    cases = [
        ("/whatsapp/webhook", forged, True),
        ("/whatsapp/webhook", forged, False),
        ("/api/chat/messages", {}, False),
    ]
    for path, headers, length in cases:
        outcome = stream_post(server, path, headers, length=length)
        assert outcome.sent < SLACK, f"{path}: the server read {outcome.sent} bytes"
        assert outcome.status in (413, None), path
        assert logged(server, f"refused POST {path}")
    assert logged(server, "(0 bytes read)")  # the announced length was refused unread
