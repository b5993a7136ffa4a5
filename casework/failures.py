"""Which failures are worth trying again.

A message whose handling failed is retried only when the failure was *transient*: the
database or the network was briefly unavailable, and the same message may well succeed in a
moment. Anything else (a bug, an input the code cannot read) would fail the same way on every
try, so retrying it only keeps the chat waiting: a poison message.
"""

from sqlalchemy import exc as sa

# PostgreSQL SQLSTATEs of conditions that pass: lost or refused connections (not 08P01, a
# protocol violation such as a NUL byte), serialisation failures and deadlocks, locks not
# available, too many connections, a server shutting down or starting.
TRANSIENT_SQLSTATES = frozenset(
    {
        "08000",
        "08001",
        "08003",
        "08004",
        "08006",
        "40001",
        "40P01",
        "53300",
        "55P03",
        "57P01",
        "57P02",
        "57P03",
    }
)


class Transient(Exception):
    """Raised (from the original error) by an adapter whose failure may pass: a provider's
    network error, a server error, a rate limit."""


def transient(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, is worth trying again."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            Transient
            | ConnectionError
            | TimeoutError
            | sa.OperationalError  # SQLite: "database is locked"
            | sa.InterfaceError
            | sa.DisconnectionError
            | sa.TimeoutError,  # no connection free in the pool
        ):
            return True
        if isinstance(current, sa.DBAPIError):
            if current.connection_invalidated:
                return True
            if getattr(current.orig, "sqlstate", None) in TRANSIENT_SQLSTATES:
                return True
        current = current.__cause__
    return False
