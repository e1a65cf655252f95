"""The whole demo flow in Debian's Chromium (headless, driven by Playwright) against a real
`kommentera serve`: comment in Swedish, see it held, approve it, see it published, and
lose nothing when a field is missing. Each step leaves a screenshot in test-artifacts/."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.server import KOMMENTERA, running_server

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A real server over a temp SQLite file; yields (base URL, its env)."""
    database = tmp_path_factory.mktemp("e2e") / "k.db"
    with running_server(f"sqlite:///{database}", workers=1) as server:
        yield server.base_url, server.env


def _token(env: dict[str, str]) -> str:
    done = subprocess.run(
        [KOMMENTERA, "tokens", "create", "e2e-moderator"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def _field(page, label: str):
    return page.get_by_role("textbox", name=label, exact=True)


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0, f"no screenshot written to {path}"
    return path


def test_a_swedish_commenter_goes_from_form_to_published_comment(server, browser) -> None:
    base, env = server
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    page.goto(f"{base}/demo/")
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.get_by_text("E-postadressen publiceras inte.").is_visible()

    _field(page, "Namn").fill("Åsa Öberg")
    _field(page, "E-post").fill("asa.oberg@exempel.se")
    _field(page, "Kommentar").fill("Så <strong>välskrivet</strong> om Haninge och Kalix!")
    _shot(page, "1-form-filled")
    page.get_by_role("button", name="Publicera kommentar").click()

    page.wait_for_url("**/demo/?unapproved=*")
    held = page.locator(".comment", has_text="Åsa Öberg")
    assert "Din kommentar väntar på granskning." in held.inner_text()
    _shot(page, "2-awaiting-moderation")
    comment_id = int(page.url.split("unapproved=")[1].split("&")[0])

    approved = requests.patch(
        f"{base}/api/v1/moderation/comments/{comment_id}",
        json={"status": "approved"},
        headers={"Authorization": f"Bearer {_token(env)}"},
        timeout=10,
    )
    assert approved.status_code == 200, approved.text

    page.goto(f"{base}/demo/")
    published = page.locator(f"#comment-{comment_id}")
    assert published.locator(".body strong").inner_text() == "välskrivet"
    assert "väntar på granskning" not in published.inner_text()
    _shot(page, "3-published")
    context.close()


def test_a_missing_email_shows_the_swedish_error_and_keeps_the_comment(server, browser) -> None:
    base, _env = server
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    page.goto(f"{base}/demo/")
    typed = "Jätteintressant – tack för att ni delar med er, även från Kalix!"
    _field(page, "Namn").fill("Örjan Ängström")
    _field(page, "Kommentar").fill(typed)
    page.get_by_role("button", name="Publicera kommentar").click()

    alert = page.get_by_role("alert")
    assert "E-post: Fältet måste fyllas i." in alert.inner_text()
    assert _field(page, "Kommentar").input_value() == typed
    assert _field(page, "Namn").input_value() == "Örjan Ängström"
    _shot(page, "4-missing-email-error")

    _field(page, "E-post").fill("orjan@exempel.se")
    page.get_by_role("button", name="Publicera kommentar").click()
    page.wait_for_url("**/demo/?unapproved=*")
    assert "Din kommentar väntar på granskning." in page.content()
    context.close()


# Collects every Content-Security-Policy violation the page reports, from the first byte.
_RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_the_pages_work_under_their_content_security_policy(server, browser) -> None:
    base, _env = server
    context = browser.new_context(locale="en-GB")
    context.add_init_script(_RECORD_VIOLATIONS)
    page = context.new_page()
    violations: list[str] = []

    def visited() -> None:
        violations.extend(page.evaluate("window.__violations"))

    first = page.goto(f"{base}/demo/")
    policy = first.headers["content-security-policy"]
    assert "unsafe-inline" not in policy
    assert "default-src 'none'" in policy
    # The page is styled by its own stylesheet, which the policy lets in.
    assert page.locator("body").evaluate("b => getComputedStyle(b).backgroundColor") == (
        "rgb(246, 246, 243)"
    )
    assert page.locator(".comment-list").evaluate("l => getComputedStyle(l).listStyleType") == (
        "none"
    )
    visited()

    _field(page, "Name").fill("Policy Pia")
    _field(page, "Comment").fill("Styled, with no inline style at all.")
    page.get_by_role("button", name="Post Comment").click()  # no e-mail: the error page
    assert "Email: This field is required." in page.get_by_role("alert").inner_text()
    assert page.locator(".errors").evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    visited()

    _field(page, "Email").fill("pia@exempel.se")
    page.get_by_role("button", name="Post Comment").click()  # form-action, then a redirect
    page.wait_for_url("**/demo/?unapproved=*")
    assert page.get_by_role("status").inner_text() == "Your comment is awaiting moderation."
    visited()
    context.close()

    assert violations == []
