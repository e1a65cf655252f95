"""A headless-Chromium detector for script execution: alert/confirm/prompt/print replaced by
a recorder in every frame, native dialogs, network requests and navigations recorded, event
handlers provoked, and links and handler attributes inspected. All traffic is routed
in-process; nothing leaves the machine."""

from __future__ import annotations

from collections.abc import Iterable

from playwright.sync_api import Browser, Error, Route

PAGE_URL = "http://127.0.0.1:9/kommentarer.html"
RECORD_CALLS = """
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__xssHit(`${name}(${args.join(",")})`); };
}
"""
# Provoke inline handlers the way a reader would (hover, focus, click), but never follow a
# safe link: that is a navigation the reader chose, not an attack.
PROVOKE_AND_INSPECT = """
() => {
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) found.push(`handler:${el.tagName}:${name}`);
    }
    const safeLink = el.tagName === "A" && ["http:", "https:", "mailto:"].includes(el.protocol);
    if (el.tagName === "A" && el.hasAttribute("href") && !safeLink) {
      found.push(`link:${el.protocol}`);
    }
    for (const type of ["mouseover", "mouseenter", "focus", "animationstart"]) {
      el.dispatchEvent(new Event(type, {bubbles: true}));
    }
    if (!safeLink && typeof el.click === "function") el.click();
  }
  return found;
}
"""
INSERT = """
(fragments) => {
  for (const html of fragments) {
    const article = document.createElement("article");
    article.innerHTML = html;
    document.body.append(article);
  }
}
"""


class Detector:
    """Renders HTML fragments into a page and returns everything suspicious that happened."""

    def __init__(self, browser: Browser) -> None:
        self.context = browser.new_context()
        self.hits: list[str] = []
        self.html = ""
        self.context.expose_binding("__xssHit", lambda _source, what: self.hits.append(what))
        self.context.add_init_script(RECORD_CALLS)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("request", self._request)
        self.page.on("framenavigated", self._navigated)

    def _route(self, route: Route) -> None:
        if route.request.url == PAGE_URL:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self.html)
        else:
            route.abort()

    def _dialog(self, dialog) -> None:
        self.hits.append(f"dialog:{dialog.type}")
        dialog.dismiss()

    def _request(self, request) -> None:
        if request.url != PAGE_URL:
            self.hits.append(f"request:{request.url[:60]}")

    def _navigated(self, frame) -> None:
        if frame.url not in (PAGE_URL, "about:blank", "about:srcdoc"):
            self.hits.append(f"navigation:{frame.url[:60]}")

    def render(self, fragments: Iterable[str], *, via_inner_html: bool = False) -> list[str]:
        """Serve the fragments in one page (as a server-rendered page would), or insert each
        with innerHTML after load (as a JavaScript embed would)."""
        self.hits = []
        fragments = list(fragments)
        comments = "".join(f'<article class="comment">{f}</article>' for f in fragments)
        body = "" if via_inner_html else comments
        self.html = f"<!doctype html><meta charset=utf-8><title>t</title><body>{body}"
        try:
            self.page.goto(PAGE_URL, wait_until="load", timeout=10_000)
            if via_inner_html:
                self.page.evaluate(INSERT, fragments)
            self.hits += self.page.evaluate(PROVOKE_AND_INSPECT)
            self.page.wait_for_timeout(50)
        except Error as error:  # the page navigated itself away or crashed: also a finding
            self.hits.append(f"error:{str(error)[:60]}")
        return self.hits

    def executions(self) -> list[str]:
        """Only the hits that prove script ran: recorded calls and native dialogs."""
        return [
            h for h in self.hits if h.startswith(("alert", "confirm", "prompt", "print", "dialog"))
        ]

    def close(self) -> None:
        self.context.close()
