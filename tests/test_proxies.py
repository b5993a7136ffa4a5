"""X-Forwarded-For is believed only from the trusted proxies of the settings (none by default):
one function, client_address(), says who is asking, and login throttling counts by it."""

from ipaddress import ip_network
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from backoffice.app import create_app
from bot.channels.peer import resolve
from casework.staff import throttle
from foundation.audit import AuditEntry
from foundation.db import Database
from foundation.settings import Settings, WebSettings
from tests.support import STAFF_PASSWORD, post_login

# The fixtures module is also a plugin (below); have pytest rewrite its asserts before import.
pytest.register_assert_rewrite("tests.browser_fixtures")
from tests.browser_fixtures import ServerProcess  # noqa: E402

pytest_plugins = ("tests.browser_fixtures",)

WRONG = STAFF_PASSWORD + "x"
PROXY = "10.0.0.5"
TRUSTED = [ip_network(PROXY), ip_network("172.18.0.0/16"), ip_network("fd00::/8")]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # Not from a trusted proxy: the header is anyone's invention.
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),
        ("127.0.0.1", ["198.51.100.1"], "127.0.0.1"),
        # From the proxy: the address it appended.
        (PROXY, ["198.51.100.1"], "198.51.100.1"),
        (PROXY, [], PROXY),
        # What the client wrote to the left of it is ignored.
        (PROXY, ["1.1.1.1, 2.2.2.2, 198.51.100.1"], "198.51.100.1"),
        # Through two trusted proxies, in two header lines.
        (PROXY, ["198.51.100.1, 172.18.0.3", "172.18.0.4"], "198.51.100.1"),
        # Every hop trusted: the farthest one.
        (PROXY, ["172.18.0.3"], "172.18.0.3"),
        # Ports and IPv6 as proxies write them.
        (PROXY, ["198.51.100.1:5123"], "198.51.100.1"),
        (PROXY, ["[2001:db8::7]:443"], "2001:db8::7"),
        ("fd00::1", ["2001:db8::7"], "2001:db8::7"),
        ("::ffff:10.0.0.5", ["198.51.100.1"], "198.51.100.1"),
        # Garbage where an address should be: the last proxy that can be named.
        (PROXY, ["<script>, not-an-ip"], PROXY),
        (PROXY, ["198.51.100.1, junk, 172.18.0.3"], "172.18.0.3"),
        (None, ["198.51.100.1"], None),
    ],
)
def test_the_client_is_the_first_address_from_the_right_that_is_not_a_trusted_proxy(
    peer: str | None, forwarded_for: list[str], client: str | None
) -> None:
    assert resolve(peer, forwarded_for, TRUSTED) == client


def test_with_no_trusted_proxy_the_header_is_never_read() -> None:
    assert resolve("127.0.0.1", ["198.51.100.1"], []) == "127.0.0.1"
    assert resolve(PROXY, ["198.51.100.1"], []) == PROXY


def _app(db: Database, database_url: str, **web: Any) -> FastAPI:
    config = Settings(
        database_url=database_url,
        web=WebSettings(secret_key="test-secret", **web),
        _env_file=None,
    )
    return create_app(config, db, config.web.secret_key)


def _client(app: FastAPI, peer: str, forwarded_for: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(peer, 40000)),
        base_url="http://testserver",
        headers={"X-Forwarded-For": forwarded_for},
    )


async def _failed_login_addresses(db: Database) -> list[str]:
    async with db.transaction() as session:
        entries = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "staff.login_failed")
        )
        return [entry.after["address"] for entry in entries if entry.after]


@pytest.mark.parametrize(
    ("trusted", "recorded"),
    [([], "127.0.0.1"), (["127.0.0.1"], "198.51.100.1"), (["10.0.0.0/8"], "127.0.0.1")],
)
async def test_the_audit_log_records_the_address_the_settings_allow(
    loaded_db: Database, database_url: str, trusted: list[str], recorded: str
) -> None:
    app = _app(loaded_db, database_url, trusted_proxies=trusted)
    async with _client(app, "127.0.0.1", "198.51.100.1") as client:
        assert (await post_login(client, "agente", WRONG)).status_code == 401
    assert await _failed_login_addresses(loaded_db) == [recorded]


async def test_a_client_cannot_dodge_its_count_by_inventing_forwarded_addresses(
    loaded_db: Database, database_url: str
) -> None:
    app = _app(loaded_db, database_url)  # no trusted proxy
    free = throttle.PER_USERNAME_AND_ADDRESS.free
    for n in range(free):
        async with _client(app, "203.0.113.9", f"198.51.100.{n}") as client:
            assert (await post_login(client, "agente", WRONG)).status_code == 401
    async with _client(app, "203.0.113.9", "198.51.100.200") as client:
        assert (await post_login(client, "agente", WRONG)).status_code == 429


async def test_behind_a_trusted_proxy_each_client_has_its_own_count(
    loaded_db: Database, database_url: str
) -> None:
    """All staff arrive from the proxy's address: one person's failures slow down only that
    person's address, and a colleague behind the same proxy logs in."""
    app = _app(loaded_db, database_url, trusted_proxies=[PROXY])
    free = throttle.PER_USERNAME_AND_ADDRESS.free
    async with _client(app, PROXY, "198.51.100.1") as guesser:
        for _ in range(free):
            assert (await post_login(guesser, "agente", WRONG)).status_code == 401
        assert (await post_login(guesser, "agente", WRONG)).status_code == 429
    async with _client(app, PROXY, "198.51.100.2") as colleague:
        assert (await post_login(colleague, "agente", STAFF_PASSWORD)).status_code == 303


@pytest.mark.parametrize(
    ("server_env", "recorded"),
    [({}, "127.0.0.1"), ({"VENTANILLA_TRUSTED_PROXIES": "127.0.0.1"}, "198.51.100.1")],
    ids=["no-trusted-proxy", "loopback-trusted"],
)
async def test_the_served_app_believes_forwarded_addresses_only_from_trusted_proxies(
    server: ServerProcess, database_url: str, recorded: str
) -> None:
    """`ventanilla serve` as deployed: the web server itself no longer believes the header from
    local clients (uvicorn's default did); only the setting makes it count."""
    async with httpx.AsyncClient(
        base_url=server.url, headers={"X-Forwarded-For": "198.51.100.1"}
    ) as client:
        assert (await post_login(client, "admin", "no-es-la-clave")).status_code == 401
    db = Database(database_url)
    try:
        assert await _failed_login_addresses(db) == [recorded]
    finally:
        await db.dispose()
