"""Who is asking: the client's address, as rate limits count it (here, below the back office,
so the web chat and the back office read it the same way)."""

from fastapi import Request


def client_address(request: Request) -> str:
    """The client's network address. This is the connecting peer's: behind a reverse proxy,
    the proxy's own address, which every client behind it shares."""
    return request.client.host if request.client else "desconocida"
