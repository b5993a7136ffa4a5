"""Who is asking: the client's address, believing `X-Forwarded-For` only from trusted proxies.

Behind a reverse proxy every request arrives from the proxy's address, and the client's is in
the `X-Forwarded-For` header the proxy adds. Anyone can send that header, though, so it is read
only when the request comes from an address in `VENTANILLA_TRUSTED_PROXIES` (none by default).
The header is read from the right: each trusted proxy appends the address it saw, so the first
address from the right that is not a trusted proxy is the client; whatever lies to the left of
it was written by the client and is ignored.

`client_address(request)` is the one place that answers the question: login throttling, the
web chat's rate limits and audit entries all ask it (it lives below the back office so the
web chat can ask it too).
"""

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.requests import HTTPConnection

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
HEADER = "x-forwarded-for"


def client_address(connection: HTTPConnection) -> str | None:
    """The client's IP address as text (None when the server does not know its peer). Works
    for any HTTP connection or request of the app, including in middleware:
    `client_address(Request(scope))`."""
    peer = connection.client.host if connection.client else None
    trusted: Sequence[Network] = connection.app.state.settings.web.trusted_proxies
    return resolve(peer, connection.headers.getlist(HEADER), trusted)


def resolve(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str | None:
    """The client's address, given the peer's, the `X-Forwarded-For` header values in the order
    received and the trusted proxies."""
    if peer is None:
        return None
    nearest = _parse(peer)
    if nearest is None or not _is_trusted(nearest, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break  # garbage where a proxy should have written an address: stop at the proxy
        nearest = address
        if not _is_trusted(address, trusted):
            break
    return str(nearest)


def _is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in trusted)


def _parse(text: str) -> Address | None:
    """An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or
    `[2001:db8::1]:443`; None for anything else."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ip_address(text)
    except ValueError:
        return None
