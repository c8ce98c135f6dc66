"""The password gate in Chromium: a signed-in browser stays signed in across a refresh, and Sign out
forgets it, checked against the cookie the browser holds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core.access import PASSWORD_ENV, SESSION_COOKIE, SESSION_SECONDS
from tests.e2e.conftest import screenshot
from tests.e2e.server import streamlit_server

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 60_000
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def app_url(data_dir: Path) -> Iterator[str]:
    with streamlit_server(data_dir, extra_env={PASSWORD_ENV: PASSWORD}) as url:
        yield url


def _session_cookies(page: Page) -> list[dict[str, object]]:
    return [dict(c) for c in page.context.cookies() if c["name"] == SESSION_COOKIE]


def _expect_sign_in_form(page: Page) -> None:
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("Labeling as")).to_have_count(0)


def _expect_signed_in(page: Page, name: str) -> None:
    expect(page.get_by_text(f"Labeling as {name}")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)


def _sign_in(page: Page, name: str) -> None:
    page.get_by_role("textbox", name="Your name").fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    _expect_signed_in(page, name)


def test_a_refresh_keeps_the_sign_in_and_sign_out_forgets_it(page: Page, app_url: str) -> None:
    page.goto(app_url)
    _expect_sign_in_form(page)
    assert _session_cookies(page) == []
    _sign_in(page, "Alex")
    # The cookie is written by the run after sign-in: wait for it rather than for time.
    page.wait_for_function(f"document.cookie.includes('{SESSION_COOKIE}=')", timeout=TIMEOUT_MS)
    (cookie,) = _session_cookies(page)
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http on loopback; the script adds Secure over https
    lifetime = float(cookie["expires"]) - page.evaluate("Date.now() / 1000")  # type: ignore[arg-type]
    assert SESSION_SECONDS - 120 < lifetime <= SESSION_SECONDS + 5
    screenshot(page, "gate-signed-in")

    page.reload()
    _expect_signed_in(page, "Alex")
    screenshot(page, "gate-after-refresh")

    # The cookie is what carries it: without it, a refresh asks again.
    page.context.clear_cookies(name=SESSION_COOKIE)
    page.reload()
    _expect_sign_in_form(page)
    _sign_in(page, "Alex")
    page.wait_for_function(f"document.cookie.includes('{SESSION_COOKIE}=')", timeout=TIMEOUT_MS)

    page.get_by_role("button", name="Sign out").click()
    _expect_sign_in_form(page)
    screenshot(page, "gate-signed-out")
    # Signed out, the page list of the last run is gone too, not left behind in the sidebar.
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0, timeout=TIMEOUT_MS)
    page.wait_for_function(f"!document.cookie.includes('{SESSION_COOKIE}=')", timeout=TIMEOUT_MS)
    assert _session_cookies(page) == []
    page.reload()
    _expect_sign_in_form(page)


def test_a_forged_cookie_signs_nobody_in(page: Page, app_url: str) -> None:
    host = app_url.split("//", 1)[1].split(":", 1)[0]
    page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": "QWxleA.9999999999.00", "domain": host, "path": "/"}]
    )
    page.goto(app_url)
    _expect_sign_in_form(page)


def test_a_link_to_a_page_opens_that_page_after_sign_in(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/results")
    _expect_sign_in_form(page)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    _sign_in(page, "Robin")
    expect(page.get_by_role("heading", name="Results", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    expect(page).to_have_url(re.compile(r"/results(\?|$)"))  # the app may add its own query
    expect(page.get_by_text("Page not found")).to_have_count(0)
