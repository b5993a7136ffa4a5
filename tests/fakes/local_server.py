"""What the fake APIs share: an HTTP/1.1 server on a free port of 127.0.0.1, one thread per
connection, served from a background thread between `start()` and `close()`; each request is
handed to the fake's `_serve(request, http_method)`."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LocalServer:
    def __init__(self) -> None:
        self._closing = threading.Event()  # cuts scripted delays short when the fake closes
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, first waking whatever waits so that nothing hangs."""
        self._closing.set()
        self._wake()
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def _wake(self) -> None:
        """Threads waiting on something other than `_closing` (long polls) are woken here."""

    def _serve(self, request: BaseHTTPRequestHandler, http_method: str) -> None:
        raise NotImplementedError

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once

            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_body(request: BaseHTTPRequestHandler) -> bytes:
    """The request's body, sent with a Content-Length or chunked."""
    if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(request.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                request.rfile.readline()
                return b"".join(chunks)
            chunks.append(request.rfile.read(size))
            request.rfile.readline()
    length = int(request.headers.get("Content-Length") or 0)
    return request.rfile.read(length) if length else b""
