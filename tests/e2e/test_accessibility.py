"""Every HTML page Kommentera serves passes axe-core's WCAG 2.1 AA rules in Chromium with no
serious or critical violation, in both languages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.accessibility import serious_violations
from tests.support.server import running_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("a11y") / "k.db"
    with running_server(f"sqlite:///{database}", workers=1) as server:
        yield server.base_url


@pytest.mark.parametrize("locale", ["sv-SE", "en-GB"])
@pytest.mark.parametrize("path", ["/", "/demo/"])
def test_page_has_no_serious_accessibility_violation(base_url, browser, path, locale) -> None:
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(f"{base_url}{path}")
    assert serious_violations(page) == []
    context.close()


def test_form_error_page_has_no_serious_accessibility_violation(base_url, browser) -> None:
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    page.goto(f"{base_url}/demo/")
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_load_state()
    assert serious_violations(page) == []
    context.close()


def test_a_violation_is_reported(base_url, browser) -> None:
    """The scan can fail: an image without alternative text is a critical violation."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base_url}/")
    page.evaluate("document.body.appendChild(document.createElement('img')).src = '/x.png'")
    assert [violation["id"] for violation in serious_violations(page)] == ["image-alt"]
    context.close()
