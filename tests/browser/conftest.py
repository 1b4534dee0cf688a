"""Browser tests: Playwright driving Debian's chromium (headless) against the test server."""

import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
	from playwright.sync_api import sync_playwright

	executable = shutil.which("chromium") or shutil.which("chromium-browser")
	if not executable:
		pytest.fail("chromium is not installed: run the tests with `make test`, which installs it")
	with sync_playwright() as playwright:
		browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
		yield browser
		browser.close()


@pytest.fixture
def page(browser):
	context = browser.new_context(
		locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 900}
	)
	page = context.new_page()
	page.set_default_timeout(30_000)
	yield page
	context.close()


@pytest.fixture
def desk_login(server, page):
	def login(user, password):
		page.goto(f"{server}/login")
		page.fill("#login_email", user)
		page.fill("#login_password", password)
		page.click(".btn-login")
		page.wait_for_url("**/app**")
		return page

	return login


def screenshot(page, name):
	ARTIFACTS.mkdir(exist_ok=True)
	page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fill(locator, value: str, attempts: int = 5):
	"""Type `value` into a desk dialog's input and make sure it stayed there: while a Frappe dialog still animates
	(a slow machine), a value typed into it is sometimes lost or lands in the field that had the focus."""
	for _ in range(attempts):
		locator.fill(value)
		if locator.input_value() == value:
			return
		locator.page.wait_for_timeout(200)
	assert locator.input_value() == value, f"{value!r} could not be typed"
