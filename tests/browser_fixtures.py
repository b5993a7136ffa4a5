"""Browser-test fixtures: the real server in a subprocess, Chromium driven by Playwright.

A test module enables them with `pytest_plugins = ("tests.browser_fixtures",)`. The server is
started exactly as a person would start it (`python -m ventanilla serve`), on the database given
by the `database_url` fixture from tests/support.py, so every browser test runs on each backend.
Screenshots land in test-artifacts/screenshots/ and the server's output in test-artifacts/logs/.
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Response,
    async_playwright,
    expect,
)

CHROMIUM = "/usr/bin/chromium"
# A shared CI machine can be slow; a reply that takes longer than this is still a failure.
expect.set_options(timeout=15_000)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"
STARTUP_SECONDS = 90  # the first start migrates, loads the catalogue and builds the model
# The chat page polls every 3 s; give an unsolicited message a few polls to show up.
POLL_WAIT_MS = 10_000

PASSWORD_LINE = re.compile(r"^\s*Contraseña:\s*(\S+)\s*$")
ADMIN_LINE = re.compile(r"^\s*Usuario:\s*admin\s*$")
SERVER_ERRORS = re.compile(r"Traceback|Internal Server Error|\" 5\d\d ")
FIELDS = "input:not([type=hidden]), select, textarea"
HAS_LABEL_JS = """el => el.labels.length > 0
    || el.hasAttribute('aria-labelledby') || el.hasAttribute('aria-label')"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`python -m ventanilla serve` in a subprocess, its output collected line by line."""

    def __init__(self, database_url: str, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable,
            "-m",
            "ventanilla",
            "serve",
            "--port",
            str(self.port),
            "--database",
            database_url,
        ]
        # A clean environment: no VENTANILLA_* leaking in from the developer's shell.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("VENTANILLA_")}
        self.env["VENTANILLA_PUBLIC_URL"] = self.url
        self.env["VENTANILLA_DESK_HOURS"] = ""  # staff always on duty, whatever the clock says
        self.env["VENTANILLA_USEFULNESS_RATE"] = "0"  # no random "¿Te sirvió...?" after answers
        self.env.update(env or {})
        self.workdir = workdir
        self.lines: list[str] = []
        self.admin_password: str | None = None
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def explain(self, problem: str) -> str:
        return f"{problem}\n--- server output ({' '.join(self.command)}) ---\n{self.output}"

    def start(self) -> None:
        self._process = subprocess.Popen(
            self.command,
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self.lines.append(line.rstrip("\n"))

    def _printed_password(self) -> str | None:
        for line in list(self.lines):
            if match := PASSWORD_LINE.match(line):
                return match.group(1)
        return None

    def wait_until_ready(self, timeout: float = STARTUP_SECONDS) -> None:
        """Until the first-run login is printed and the server answers HTTP."""
        assert self._process is not None
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while True:
                if (code := self._process.poll()) is not None:
                    time.sleep(0.2)  # let the reader thread take the last lines
                    pytest.fail(self.explain(f"the server exited with status {code}"))
                self.admin_password = self.admin_password or self._printed_password()
                if self.admin_password and self._answers(client):
                    break
                if time.monotonic() > deadline:
                    pytest.fail(
                        self.explain(
                            f"after {timeout:.0f} s: password printed: "
                            f"{self.admin_password is not None}, HTTP answered: "
                            f"{self._answers(client)}"
                        )
                    )
                time.sleep(0.1)
        assert any(ADMIN_LINE.match(line) for line in self.lines), self.explain(
            "the first run printed a password but not the 'Usuario: admin' line"
        )

    def _answers(self, client: httpx.Client) -> bool:
        try:
            return client.get(f"{self.url}/").status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=5)


def _backend(request: pytest.FixtureRequest) -> str:
    callspec = getattr(request.node, "callspec", None)
    return str(callspec.params.get("database_url", "default")) if callspec else "default"


def _artifact_name(request: pytest.FixtureRequest) -> str:
    return f"{request.node.originalname}-{_backend(request)}"


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra environment of the server; a test parametrizes `server_env` to set its own."""
    return {}


@pytest.fixture
def server(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest, server_env: dict[str, str]
) -> Iterator[ServerProcess]:
    """The real server on a fresh database, started as `python -m ventanilla serve`.

    Its output is printed at teardown (pytest shows it for failing tests), saved under
    test-artifacts/logs/, and checked for tracebacks and 5xx answers."""
    workdir = tmp_path / "server"
    workdir.mkdir()
    process = ServerProcess(database_url, workdir, server_env)
    process.start()
    try:
        process.wait_until_ready()
        yield process
        running_output = process.output
    finally:
        process.stop()
        logs = ARTIFACTS / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        (logs / f"{_artifact_name(request)}-server.log").write_text(
            process.output + "\n", encoding="utf-8"
        )
        print(process.explain("server stopped"))
    problems = [line for line in running_output.splitlines() if SERVER_ERRORS.search(line)]
    assert not problems, process.explain(f"the server reported errors: {problems}")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


NewPage = Callable[[], Awaitable[Page]]

# Runs in every page before its own scripts (injected by the browser, so the page's CSP does
# not apply to it): reports each Content-Security-Policy violation to the console, where the
# fixture collects it, besides Chromium's own "Refused to ..." console errors.
REPORT_CSP_VIOLATIONS_JS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.effectiveDirective + " blocked " + event.blockedURI
    + " in " + event.sourceFile + ":" + event.lineNumber);
}, true);
"""
# Console lines that mean a security header refused or did not understand something.
SECURITY_CONSOLE = re.compile(r"Content.Security.Policy|CSP violation|Permissions-Policy")


@pytest.fixture
def security_messages() -> list[str]:
    """Console messages about the Content-Security-Policy or Permissions-Policy seen in the
    browser; `new_page` fails the test if any is left at the end. A test that provokes one on
    purpose checks it and clears the list."""
    return []


@pytest.fixture
async def new_page(
    browser: Browser, server: ServerProcess, security_messages: list[str]
) -> AsyncIterator[NewPage]:
    """Open a page in a fresh browser context (its own cookies and localStorage: one person).

    Uncaught JavaScript errors, failed HTTP answers, a page served without a
    Content-Security-Policy, and any CSP violation or Permissions-Policy complaint on any page
    fail the test."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def watch_response(response: Response) -> None:
        if response.status >= 400:
            problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")
        is_page = response.request.resource_type == "document" and response.status < 300
        if is_page and "content-security-policy" not in response.headers:
            problems.append(f"no Content-Security-Policy on {response.url}")

    def watch_console(message: ConsoleMessage) -> None:
        if SECURITY_CONSOLE.search(message.text):
            security_messages.append(
                f"{message.type} on {message.location.get('url')}: {message.text}"
            )

    async def open_page() -> Page:
        context = await browser.new_context(base_url=server.url, locale="es-MX")
        context.set_default_timeout(10_000)
        await context.add_init_script(REPORT_CSP_VIOLATIONS_JS)
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.append(f"JS error on {page.url}: {error}"))
        page.on("response", watch_response)
        page.on("console", watch_console)
        return page

    yield open_page
    for context in contexts:
        await context.close()
    problems.extend(security_messages)
    assert not problems, server.explain(f"problems seen in the browser: {problems}")


ReviewPage = Callable[[Page, str], Awaitable[None]]


@pytest.fixture
def review_page(request: pytest.FixtureRequest) -> ReviewPage:
    """Save a full-page screenshot of the page and check that its form fields are labelled.

    Screenshots go to test-artifacts/screenshots/<test>-<backend>-<name>.png."""
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    prefix = _artifact_name(request)

    async def review(page: Page, name: str) -> None:
        await page.screenshot(path=shots / f"{prefix}-{name}.png", full_page=True)
        await assert_fields_labelled(page)

    return review


async def assert_fields_labelled(page: Page) -> None:
    """Every visible form field has a label of its own and a non-empty accessible name
    (a placeholder alone does not count as a label)."""
    fields = page.locator(FIELDS)
    for index in range(await fields.count()):
        field = fields.nth(index)
        html = await field.evaluate("el => el.outerHTML")
        assert await field.evaluate(HAS_LABEL_JS), f"{page.url}: field without a label: {html}"
        await expect(
            field, f"{page.url}: field without an accessible name: {html}"
        ).to_have_accessible_name(re.compile(r"\S"))


class ChatWindow:
    """The citizen's web chat page at /, used the way a person uses it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.log = page.get_by_role("list", name="Conversación")
        self.input = page.get_by_label("Tu mensaje")
        self.messages = self.log.locator(":scope > li")

    @classmethod
    async def open(cls, page: Page) -> "ChatWindow":
        await page.goto("/")
        return cls(page)

    async def say(
        self, text: str, *, with_button: bool = False, wait_ms: float | None = None
    ) -> Locator:
        """Type a message and send it (Enter, or the Enviar button); the replies to it.

        Give `wait_ms` when the reply may be slow, e.g. the first message after the
        catalogue changed, when the server retrains its understanding of procedures."""
        before = await self.messages.count()
        await self.input.fill(text)
        if with_button:
            await self.page.get_by_role("button", name="Enviar", exact=True).click()
        else:
            await self.input.press("Enter")
        return await self._replies_after(before, wait_ms)

    async def choose(self, label: str) -> Locator:
        """Click a button offered by the latest bot message that has buttons; the replies."""
        offered = self.log.locator(":scope > li.bot").filter(has=self.page.locator(".choices"))
        button = offered.last.get_by_role("button", name=label, exact=True)
        before = await self.messages.count()
        await button.click()
        return await self._replies_after(before)

    async def _replies_after(self, before: int, wait_ms: float | None = None) -> Locator:
        # Position before+1 is the citizen's own message; the replies come after it.
        replies = self.log.locator(f":scope > li:nth-child(n+{before + 2})")
        await expect(replies.first).to_be_visible(timeout=wait_ms)
        return replies

    def bot_message(self, containing: str) -> Locator:
        return self.log.locator(":scope > li.bot", has_text=containing)


def create_staff(database_url: str, username: str, role: str, name: str) -> str:
    """Create a staff account the way an administrator does (`ventanilla users create`);
    returns the generated password it prints."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ventanilla",
            "users",
            "create",
            username,
            "--role",
            role,
            "--name",
            name,
            "--database",
            database_url,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("VENTANILLA_")},
    )
    match = re.search(r"Contraseña generada: (\S+)", done.stdout)
    assert match, done.stdout + done.stderr
    return match.group(1)


async def log_in(page: Page, username: str, password: str) -> None:
    """Log in through the login form (the page lands where the role starts)."""
    await page.goto("/backoffice/login")
    await page.get_by_label("Usuario").fill(username)
    await page.get_by_label("Contraseña").fill(password)
    await page.get_by_role("button", name="Entrar").click()
    await expect(page).not_to_have_url(re.compile(r"/backoffice/login"))
