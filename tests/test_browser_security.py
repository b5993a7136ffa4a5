"""In a real browser: the Content-Security-Policy refuses injected script (and the fixtures
notice), the API docs work under it, and an agent whose account is deactivated leaves the live
inbox for the login form at the stream's next check."""

import re

import pytest
from playwright.async_api import expect

# The fixtures module is also a plugin (below); have pytest rewrite its asserts before import.
pytest.register_assert_rewrite("tests.browser_fixtures")
from tests.browser_fixtures import (  # noqa: E402
    POLL_WAIT_MS,
    ChatWindow,
    NewPage,
    ServerProcess,
    create_staff,
    log_in,
)

pytest_plugins = ("tests.browser_fixtures",)
pytestmark = pytest.mark.browser

INJECT_SCRIPT_JS = """() => {
  const script = document.createElement("script");
  script.textContent = "window.injected = true;";
  document.body.append(script);
  return window.injected === true;
}"""


async def test_injected_script_is_refused_and_the_api_docs_work_under_the_policy(
    server: ServerProcess, new_page: NewPage, security_messages: list[str]
) -> None:
    # Script smuggled into the citizens' chat page (say, through a message) does not run, and
    # the violation is reported where the fixtures look for them.
    chat = await ChatWindow.open(await new_page())
    async with chat.page.expect_console_message(lambda m: "CSP violation" in m.text):
        assert await chat.page.evaluate(INJECT_SCRIPT_JS) is False
    assert any("script-src" in message for message in security_messages)
    security_messages.clear()  # provoked on purpose; anything else still fails the test

    # The administrator's API documentation (Swagger UI, served locally, started from a file).
    admin = await new_page()
    assert server.admin_password is not None
    await log_in(admin, "admin", server.admin_password)
    await admin.goto("/api/docs")
    docs = admin.locator("#swagger-ui")
    await expect(docs.get_by_text("/api/chat/messages").first).to_be_visible()
    await expect(docs.get_by_text("/backoffice/login").first).to_be_visible()


async def test_a_deactivated_agent_leaves_the_live_inbox_for_the_login_form(
    server: ServerProcess, database_url: str, new_page: NewPage
) -> None:
    password = create_staff(database_url, "laura", "agent", "Laura Pérez")
    agent = await new_page()
    await log_in(agent, "laura", password)
    await agent.goto("/backoffice/canalizaciones")
    chat = await ChatWindow.open(await new_page())
    await chat.say("quiero hablar con un asesor")
    waiting = agent.get_by_role("row").filter(has_text="quiero hablar con un asesor")
    await expect(waiting).to_contain_text("En espera", timeout=POLL_WAIT_MS)

    admin = await new_page()
    assert server.admin_password is not None
    await log_in(admin, "admin", server.admin_password)
    await admin.goto("/backoffice/usuarios")
    await admin.get_by_role("link", name="laura").click()
    await admin.get_by_role("button", name="Desactivar cuenta").click()
    await expect(admin.get_by_role("status")).to_contain_text("Cuenta desactivada")

    # Nobody reloads the agent's page: the stream's next check ends it and the page follows.
    await expect(agent).to_have_url(re.compile(r"/backoffice/login\?next="), timeout=POLL_WAIT_MS)
    await expect(agent.get_by_role("heading", name="Iniciar sesión")).to_be_visible()
