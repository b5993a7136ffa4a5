"""The chat page, in a real Chromium, when its citizen writes faster than the limit: the
server's polite message is shown in the conversation, not a generic error."""

import pytest
from playwright.async_api import Browser, expect

pytest.register_assert_rewrite("tests.browser_fixtures")
from tests.browser_fixtures import ChatWindow, ServerProcess  # noqa: E402

pytest_plugins = ("tests.browser_fixtures",)


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"VENTANILLA_CHAT_MESSAGES_PER_SESSION": "2"}


async def test_the_chat_page_shows_why_a_message_was_not_sent(
    server: ServerProcess, browser: Browser
) -> None:
    context = await browser.new_context(base_url=server.url, locale="es-MX")
    errors: list[str] = []
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        chat = await ChatWindow.open(page)
        await chat.say("hola")
        await chat.say("gracias")
        await chat.say("¿sigues ahí?")
        await expect(chat.bot_message("Estás enviando mensajes muy rápido")).to_be_visible()
        await expect(chat.bot_message("No pudimos enviar tu mensaje")).to_have_count(0)
    finally:
        await context.close()
    assert errors == []
