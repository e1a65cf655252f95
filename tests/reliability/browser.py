"""A headless-Chromium detector for hostile HTML: alert/confirm/prompt/print replaced by a
recorder in every frame, native dialogs, popups, network requests and navigations recorded,
event handlers provoked and every link that is not http(s)/mailto clicked. Any
Content-Security-Policy is bypassed, so whatever the markup can run, runs and is seen. All
traffic but a real server's page is answered in-process; nothing leaves the machine.

Fragments are rendered many to a page, the way readers meet them: concatenated in one
document (a server-rendered thread) or inserted with innerHTML (a JavaScript embed). To say
which fragment did what, `isolated` renders each in its own srcdoc iframe and attributes
every finding to its frame (about 50 ms a frame, so for samples only)."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Dialog, Error, Frame, Page, Request, Route

PAGE_URL = "http://127.0.0.1:9/kommentarer.html"
_ISOLATING = re.compile(r"f\d+")
EXECUTION_PREFIXES = ("alert", "confirm", "prompt", "print", "dialog", "popup")
RECORD_CALLS = """
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__xssHit(`${name}(${args.join(",")})`); };
}
"""
# Provoke inline handlers the way a reader would (hover, focus, click), in the page and in
# every same-origin frame in it, but never follow a safe link: that is a navigation the
# reader chose, not an attack. A script URL that runs when clicked calls the recorder, or
# replaces its document (javascript:'text'), which REPLACED then sees.
PROVOKE = """
(selector) => {
  const safe = ["http:", "https:", "mailto:"];
  const shown = [[null, document, ""]];  // [frame element, its document, isolating name]
  for (let i = 0; i < shown.length; i++) {
    const [, doc, owner] = shown[i];
    for (const frame of doc.querySelectorAll("iframe, frame")) {
      let inner = null;
      try { inner = frame.contentDocument; } catch {}
      if (inner) shown.push([frame, inner, owner || frame.name]);
    }
  }
  for (const [frame, doc] of shown) {
    for (const el of doc.querySelectorAll(frame ? "body *" : `${selector} *`)) {
      for (const type of ["mouseover", "mouseenter", "focus", "animationstart", "toggle"]) {
        el.dispatchEvent(new Event(type, {bubbles: true}));
      }
      const safeLink = el.tagName === "A" && safe.includes(el.protocol);
      if (!safeLink && typeof el.click === "function") el.click();
    }
  }
  window.__shown = shown;
}
"""
REPLACED = """
() => window.__shown === undefined
  ? [""]
  : window.__shown.filter(([frame, doc]) => frame && frame.contentDocument !== doc)
    .map(([, , owner]) => owner)
"""
# Structure as the browser built it: only allowlisted elements and attributes, href/cite
# resolved to http:, https: or mailto:, no control character in the visible text, and the
# text a reader sees (innerText, so <br> and paragraphs separate words; a textarea's value),
# whitespace collapsed. With `alone`, the page holds nothing but the containers, so anything that
# ended up outside them escaped its comment.
INSPECT = """
({allowed, selector, alone}) => {
  const safe = ["http:", "https:", "mailto:"];
  const control = /[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]/;
  const containers = [...document.querySelectorAll(selector)];
  const escaped = alone
    ? [...document.querySelectorAll("body *")].filter((el) => !el.closest(selector))
    : [];
  const comments = containers.map((container) => {
    const problems = [];
    for (const el of container.querySelectorAll("*")) {
      const tag = el.localName;
      if (!(tag in allowed)) {
        problems.push(`tag:${tag}`);
        continue;
      }
      for (const attr of el.attributes) {
        if (!allowed[tag].includes(attr.name)) {
          problems.push(`attribute:${tag}[${attr.name}]`);
        } else if (attr.name === "href" || attr.name === "cite") {
          let protocol = null;
          try { protocol = new URL(attr.value, document.baseURI).protocol; } catch {}
          if (protocol !== null && !safe.includes(protocol)) {
            problems.push(`scheme:${tag}[${attr.name}]=${protocol}`);
          }
        }
      }
    }
    const match = container.textContent.match(control);
    if (match) problems.push(`control:U+${match[0].charCodeAt(0).toString(16).padStart(4, "0")}`);
    const text = container.localName === "textarea" ? container.value : container.innerText;
    return {problems, text: text.split(/\\s+/).filter(Boolean).join(" ")};
  });
  return {comments, escaped: escaped.map((el) => `escaped:${el.localName}`)};
}
"""
INSERT = """
(fragments) => {
  for (const fragment of fragments) {
    const article = document.createElement("article");
    article.className = "comment";
    article.innerHTML = fragment;
    document.body.append(article);
  }
}
"""


@dataclass
class Rendering:
    """What happened while a page of fragments was shown and provoked."""

    hits: list[str] = field(default_factory=list)  # anything script, network or navigation
    problems: list[list[str]] = field(default_factory=list)  # per article, see INSPECT
    texts: list[str] = field(default_factory=list)  # per article, what a reader sees

    def executions(self) -> list[str]:
        """Only the hits that prove script ran: recorded calls, native dialogs, popups."""
        return [hit for hit in self.hits if hit.startswith(EXECUTION_PREFIXES)]


class Detector:
    """Renders HTML fragments into a page and returns everything suspicious that happened."""

    def __init__(self, browser: Browser, allowed: Mapping[str, Sequence[str]]) -> None:
        self.allowed = {tag: list(names) for tag, names in allowed.items()}  # tag: attributes
        self.shown = ""  # the URL of the page shown; every other request is a finding
        # Without any Content-Security-Policy of a real page: the sanitizer alone must keep
        # script out, so nothing may hide an execution from the detector.
        self.context = browser.new_context(bypass_csp=True)
        self.hits: list[tuple[str, str]] = []  # (frame name, what)
        self.html = ""
        self.context.expose_binding("__xssHit", self._called)
        self.context.add_init_script(RECORD_CALLS)
        self.context.route("**/*", self._route)

    def _called(self, source: Mapping[str, Frame], what: str) -> None:
        self.hits.append((_owner(source["frame"]), what))

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url == PAGE_URL:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self.html)
        elif self.shown != PAGE_URL and (
            (url == self.shown and route.request.resource_type == "document")
            or self._own_style(route.request)
        ):
            route.continue_()  # a real server's page (visit) and its stylesheet
        else:
            route.abort()

    def _popup(self, page: Page) -> None:
        self.hits.append(("", f"popup:{page.url[:60]}"))
        page.close()

    def _dialog(self, dialog: Dialog) -> None:
        self.hits.append(("", f"dialog:{dialog.type}"))
        dialog.dismiss()

    def _own_style(self, request: Request) -> bool:
        """The page's own stylesheet (under /static/ on its origin), which no sanitized
        comment can ask for: <link> and <style> never survive."""
        asked, page = urlsplit(request.url), urlsplit(self.shown)
        return (
            request.resource_type == "stylesheet"
            and (asked.scheme, asked.netloc) == (page.scheme, page.netloc)
            and asked.path.startswith("/static/")
        )

    def _request(self, request: Request) -> None:
        if request.url.startswith("data:") and request.resource_type != "document":
            return  # a data: image or font never leaves the browser
        if self._own_style(request):
            return
        if request.url == self.shown and request.frame == self.page.main_frame:
            return
        try:
            owner = _owner(request.frame)
        except Error:  # a worker's request has no frame
            owner = ""
        self.hits.append((owner, f"request:{request.url[:60]}"))

    def _navigated(self, frame: Frame) -> None:
        if frame.url not in (self.shown, "about:blank", "about:srcdoc"):
            self.hits.append((_owner(frame), f"navigation:{frame.url[:60]}"))

    def _show(
        self, url: str, selector: str, *, insert: Sequence[str] = (), alone: bool = False
    ) -> Rendering:
        """Load the page in a fresh tab (so a late navigation cannot leak into the next),
        insert fragments, provoke what `selector` holds and every frame, then inspect."""
        self.hits, self.shown = [], url
        rendering = Rendering()
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("popup", self._popup)
        self.page.on("request", self._request)
        self.page.on("framenavigated", self._navigated)
        try:
            self.page.goto(url, wait_until="load", timeout=15_000)
            if insert:
                self.page.evaluate(INSERT, list(insert))
            # Inspected before provoking: a navigation then cannot hide what was shown.
            inspected = self.page.evaluate(
                INSPECT, {"allowed": self.allowed, "selector": selector, "alone": alone}
            )
            rendering.problems = [each["problems"] for each in inspected["comments"]]
            rendering.texts = [each["text"] for each in inspected["comments"]]
            self.hits += [("", escaped) for escaped in inspected["escaped"]]
            self.page.evaluate(PROVOKE, selector)
            self._settle()
            for owner in self.page.evaluate(REPLACED):
                self.hits.append((owner, "replaced:a document was replaced by script"))
        except Error as error:  # the document navigated itself away or crashed: a finding
            self.hits.append(("", f"error:{str(error).splitlines()[0][:80]}"))
        finally:
            self.page.close()
        rendering.hits = [what for _, what in self.hits]
        return rendering

    def _settle(self) -> None:
        """Wait for clicked script URLs and late events: until a 100 ms round adds no
        finding (at least two rounds, at most a second), so a busy machine misses none."""
        seen = -1
        for _ in range(10):
            self.page.wait_for_timeout(100)
            if len(self.hits) == seen:
                return
            seen = len(self.hits)

    def render(self, fragments: Sequence[str], *, via_inner_html: bool = False) -> Rendering:
        """Serve the fragments in one page (as a server-rendered page would), or insert each
        with innerHTML after load (as a JavaScript embed would)."""
        comments = "".join(f'<article class="comment">{f}</article>' for f in fragments)
        self.html = page_html("" if via_inner_html else comments)
        inserted = fragments if via_inner_html else ()
        return self._show(PAGE_URL, "article.comment", insert=inserted, alone=True)

    def show_page(self, page: str, selector: str) -> Rendering:
        """A whole HTML document (or several, concatenated), served as is."""
        self.html = page
        return self._show(PAGE_URL, selector)

    def isolated(self, fragments: Sequence[str]) -> dict[int, list[str]]:
        """Each fragment in its own srcdoc iframe; the hits of each, by position (-1: the
        finding could not be tied to one frame)."""
        frames = "".join(
            f'<iframe name="f{number}" srcdoc="{html.escape(fragment)}"></iframe>'
            for number, fragment in enumerate(fragments)
        )
        self.html = page_html(frames)
        self._show(PAGE_URL, "body")
        found: dict[int, list[str]] = defaultdict(list)
        for name, what in self.hits:
            found[int(name[1:]) if name else -1].append(what)
        return found

    def visit(self, url: str, selector: str) -> Rendering:
        """A real server's page as a reader's browser shows it (nothing else it asks for is
        loaded); `selector` finds the comment bodies in it."""
        return self._show(url, selector)

    def close(self) -> None:
        self.context.close()


def _owner(frame: Frame) -> str:
    """The name of the isolating iframe (f<number>) a frame is in, or ""."""
    while frame.parent_frame is not None and not _ISOLATING.fullmatch(frame.name):
        frame = frame.parent_frame
    return frame.name if _ISOLATING.fullmatch(frame.name) else ""


def page_html(body: str) -> str:
    return f"<!doctype html><meta charset=utf-8><title>kommentarer</title><body>{body}"
