"""A bounded schemathesis run against the app's OpenAPI schema: generated requests, valid
and invalid, on every operation, as an anonymous visitor, an evaluator with an API token and
an administrator with a session, against the real server. None may get a 5xx.

The schema is read in process from the app object (it does not depend on `/openapi.json`
being public). Hypothesis is derandomised, so a run is reproducible.
"""

import asyncio
import re
from collections.abc import Callable
from contextlib import suppress

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode

pytest.register_assert_rewrite("tests.browser_fixtures")
from backoffice.app import create_app  # noqa: E402
from casework.staff.accounts import create_user  # noqa: E402
from casework.staff.models import StaffUser  # noqa: E402
from casework.staff.tokens import create_token  # noqa: E402
from foundation.db import Database  # noqa: E402
from foundation.settings import Settings  # noqa: E402
from tests.browser_fixtures import ServerProcess  # noqa: E402
from tests.support import STAFF_PASSWORD  # noqa: E402

pytest_plugins = ("tests.browser_fixtures",)

EXAMPLES = 6  # per operation, per generation mode, per caller
# Operations that would end the caller's own session (the run goes on with it).
ENDS_SESSION = {"POST /backoffice/logout", "POST /backoffice/login"}
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"VENTANILLA_INBOX_STREAM_SECONDS": "0"}  # the live inbox's stream ends at once


def app_schema(database_url: str) -> schemathesis.BaseSchema:
    settings = Settings(database_url=database_url, _env_file=None)
    app = create_app(settings, Database(database_url), "schema-only")
    return schemathesis.openapi.from_dict(app.openapi())


async def evaluator_token(database_url: str) -> str:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            evaluator = await create_user(
                session, "evaluadora", STAFF_PASSWORD, "evaluator", "Evaluadora"
            )
            _, plain = await create_token(session, evaluator, "fuzz")
        return plain
    finally:
        await db.dispose()


async def admin_id(database_url: str) -> int:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            found = await session.get(StaffUser, 1)
            return found.id if found is not None else 1
    finally:
        await db.dispose()


def admin_session(server: ServerProcess) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{server.url}/backoffice/login", timeout=30)
    token = CSRF.search(form.text)
    assert token, "login page without a CSRF token"
    data = {"username": "admin", "password": server.admin_password, "csrf_token": token.group(1)}
    home = session.post(f"{server.url}/backoffice/login", data=data, timeout=30)
    page_token = CSRF.search(home.text)
    assert home.status_code == 200 and page_token, home.text[:500]
    session.headers["X-CSRF-Token"] = page_token.group(1)
    return session


def probe(
    schema: schemathesis.BaseSchema,
    server: ServerProcess,
    session: requests.Session,
    keep: Callable[[schemathesis.Case], bool] = lambda case: True,
) -> tuple[int, list[str]]:
    """Run every operation with generated cases: how many requests, and the server errors."""
    sent: list[int] = []
    errors: list[str] = []

    def run(strategy: hypothesis.strategies.SearchStrategy[schemathesis.Case]) -> None:
        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=strategy)
        def call(case: schemathesis.Case) -> None:
            if not keep(case):
                return
            response = case.call(base_url=server.url, session=session, timeout=60)
            sent.append(response.status_code)
            if response.status_code >= 500:
                asked = f"{case.path_parameters} {case.query} {case.body!r:.200}"
                errors.append(f"{response.status_code} {case.operation.label}: {asked}")

        with suppress(hypothesis.errors.Unsatisfiable):  # no invalid input to express
            call()

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label not in ENDS_SESSION:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                run(operation.as_strategy(generation_mode=mode))
    return len(sent), errors


def test_no_generated_request_gets_a_server_error(server: ServerProcess, database_url: str) -> None:
    schema = app_schema(database_url)
    own_id = asyncio.run(admin_id(database_url))
    token = asyncio.run(evaluator_token(database_url))
    admin = admin_session(server)
    evaluator = requests.Session()
    evaluator.headers["Authorization"] = f"Bearer {token}"

    def spares_the_admin(case: schemathesis.Case) -> bool:
        """The administrator's run must not deactivate, demote or re-password itself."""
        return (case.path_parameters or {}).get("user_id") != own_id

    runs = [
        probe(schema, server, admin, spares_the_admin),
        probe(schema, server, evaluator),
        probe(schema, server, requests.Session()),
    ]
    operations = len(list(schema.get_all_operations()))
    for sent, _ in runs:  # every operation was tried, most of them several times
        assert sent >= 2 * operations
    assert [error for _, found in runs for error in found] == []
