"""What the fake APIs share: an HTTP server on a free port of 127.0.0.1, one thread per
connection, served from a background thread between `start()` and `close()`."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LocalServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._closing = threading.Event()  # cuts scripted delays short when the fake closes
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
