"""Turn a commenter's raw text into safe, display-ready HTML, and inspect such HTML.

This is the only module that imports bleach: an allowlist clean, rel="nofollow ugc" links,
auto-linked bare URLs and WordPress-style paragraphs, all done on the html5lib token stream.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bleach import html5lib_shim as shim
from bleach.linkifier import LinkifyFilter
from bleach.sanitizer import BleachSanitizerFilter

# p and br are only ever produced by the paragraph step; typed ones are stripped like <div>.
_DISPLAY_TAGS = frozenset({"p", "br"})
ALLOWED_TAGS = frozenset(
    {"a", "abbr", "acronym", "b", "blockquote", "cite", "code", "del", "em", "i", "q"}
    | {"strike", "strong"}
    | _DISPLAY_TAGS
)
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),  # plus rel, which only _nofollow_ugc sets
    "abbr": frozenset({"title"}),
    "acronym": frozenset({"title"}),
    "blockquote": frozenset({"cite"}),
    "del": frozenset({"datetime"}),
    "q": frozenset({"cite"}),
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

# Elements whose content is code, markup or form state rather than prose: dropped whole.
DROP_CONTENT_TAGS = frozenset(
    {"script", "style", "template", "iframe", "noscript", "noembed", "noframes", "xmp"}
    | {"textarea", "title", "object", "embed", "svg", "math", "select", "option"}
)
_INPUT_TAGS = ALLOWED_TAGS - _DISPLAY_TAGS
_BLOCK_TAGS = frozenset({"blockquote"})
_SEPARATORS = frozenset({"p", "br", "blockquote"})  # separate words even without whitespace
_BLANK = " \t\r\f"  # not U+00A0: a typed non-breaking space is deliberate content
REL = "nofollow ugc"

# Bare URLs in text need an explicit http(s) scheme or a leading "www." so that plain words
# like "example.com" stay text. Same shape as bleach's build_url_re, but any alphabetic TLD.
_URL_RE = re.compile(
    r"""\(*  # opening parentheses; LinkifyFilter moves unbalanced ones out of the link
    \b(?<![@.])(?:https?://|(?=www\.))  # scheme or www. required
    (?:[\w-]+\.)+[^\W\d_]{2,63}(?::[0-9]+)?(?!\.\w)\b  # host.tld(:port)
    (?:[/?#][^\s{}|\\^`<>"]*)?  # path, query, fragment; trailing .,) are split off by bleach
    """,
    re.IGNORECASE | re.VERBOSE,
)

Token = dict[str, Any]

# bleach.Cleaner parses with the same tag list it sanitizes with, so a <script> would already
# be flattened into plain text before any filter could see it. We therefore assemble the same
# pipeline from bleach's parts: parse knowing the drop-content tags, drop those subtrees, then
# sanitize with the strict input allowlist. Parsers hold state, so calls are serialized.
_LOCK = threading.Lock()
_PARSER = shim.BleachHTMLParser(
    tags=_INPUT_TAGS | DROP_CONTENT_TAGS,
    strip=True,
    consume_entities=False,
    namespaceHTMLElements=False,
)
_TEXT_PARSER = shim.HTMLParser(namespaceHTMLElements=False)  # decodes entities, for inspection
_WALKER = shim.getTreeWalker("etree")


class _Serializer(shim.BleachHTMLSerializer):
    def escape_base_amp(self, stoken: str) -> Iterator[str]:
        # html5lib escapes "<" in attribute values (escape_lt_in_attrs) but never ">".
        for part in super().escape_base_amp(stoken):
            yield part.replace(">", "&gt;")


_SERIALIZER = _Serializer(
    quote_attr_values="always",
    quote_char='"',  # bleach's &-handling and our ">" escaping only run on "-quoted values
    omit_optional_tags=False,
    escape_lt_in_attrs=True,
    resolve_entities=False,  # keep typed entities as entities, and å, ”, U+00A0 as characters
    sanitize=False,  # BleachSanitizerFilter does that
    alphabetical_attributes=False,
)


def _nofollow_ugc(attrs: dict[Any, str], is_new: bool) -> dict[Any, str]:
    attrs[(None, "rel")] = REL  # replaces any rel the commenter wrote
    return attrs


class _Prune(shim.Filter):
    """Drop DROP_CONTENT_TAGS elements with all they contain, and <code> nested in <code>
    (LinkifyFilter's skip_tags forgets it is inside code when the inner one closes)."""

    def __iter__(self) -> Iterator[Token]:
        drop = code = 0  # depths; the tree walker always emits balanced tags
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if drop:
                drop += (kind == "StartTag") - (kind == "EndTag")
            elif kind in ("StartTag", "EmptyTag") and name in DROP_CONTENT_TAGS:
                drop = int(kind == "StartTag")
            elif name == "code" and kind in ("StartTag", "EndTag"):
                code += 1 if kind == "StartTag" else -1
                if code <= (kind == "StartTag"):  # only the outermost pair survives
                    yield token
            else:
                yield token


@dataclass
class _Level:
    """Paragraph state of one block: the top level, or the inside of a <blockquote>."""

    in_p: bool = False
    inline: list[Token] = field(default_factory=list)  # open inline start tags
    emitted: int = 0  # how many of `inline` are open in the current <p>
    breaks: int = 0  # newlines since the last content
    ws: str = ""  # spaces since the last content, written only if more content follows


def _tag(kind: str, name: str) -> Token:
    return {"type": kind, "name": name, "data": {}}


class _Paragraphs(shim.Filter):
    """wpautop for comments: blank line → new <p>, newline → <br>, never an empty <p>.

    Inline start tags are held back until text follows, so whitespace-only runs make no
    paragraph, and inline elements cut by a paragraph break are closed and reopened.
    """

    def __iter__(self) -> Iterator[Token]:
        self.levels = [_Level()]
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if kind in ("Characters", "SpaceCharacters"):
                yield from self._text(token["data"])
            elif name in _BLOCK_TAGS and kind in ("StartTag", "EndTag"):
                yield from self._close_p()
                if kind == "StartTag":
                    self.levels.append(_Level())
                else:
                    self.levels.pop()
                yield token
            elif kind == "StartTag":
                self.levels[-1].inline.append(token)
            elif kind == "EndTag":
                yield from self._end_inline(token)
            else:  # Entity tokens; comments and doctypes never get past the sanitizer
                yield from self._content(token)
        yield from self._close_p()

    def _text(self, data: str) -> Iterator[Token]:
        level = self.levels[-1]
        for i, line in enumerate(data.split("\n")):
            if i:
                level.breaks += 1
                level.ws = ""
            body = line.strip(_BLANK)
            if not body:
                level.ws += line
                continue
            level.ws += line[: len(line) - len(line.lstrip(_BLANK))]
            yield from self._content({"type": "Characters", "data": body})
            level.ws = line[len(line.rstrip(_BLANK)) :]

    def _content(self, token: Token) -> Iterator[Token]:
        level = self.levels[-1]
        if level.in_p and level.breaks >= 2:
            yield from self._close_p()
        if level.in_p:
            if level.breaks:
                yield _tag("EmptyTag", "br")
            if level.ws:
                yield {"type": "Characters", "data": level.ws}
        else:
            level.in_p = True
            yield _tag("StartTag", "p")
        yield from level.inline[level.emitted :]
        level.emitted, level.breaks, level.ws = len(level.inline), 0, ""
        yield token

    def _end_inline(self, token: Token) -> Iterator[Token]:
        level = self.levels[-1]
        if level.inline:
            level.inline.pop()
        if level.emitted > len(level.inline):  # it is open in the current <p>: close it
            level.emitted = len(level.inline)
            if level.ws and not level.breaks:
                yield {"type": "Characters", "data": level.ws}
            level.ws = ""
            yield token

    def _close_p(self) -> Iterator[Token]:
        level = self.levels[-1]
        if level.in_p:
            for start in reversed(level.inline[: level.emitted]):
                yield _tag("EndTag", start["name"])
            yield _tag("EndTag", "p")
        level.in_p, level.emitted, level.breaks, level.ws = False, 0, 0, ""


class _Inspect(shim.Filter):
    """Passes the finished stream through, noting what visible_text and count_links would
    find in the serialized HTML, so validation and the rules need no second parse."""

    def __iter__(self) -> Iterator[Token]:
        self.parts: list[str] = []
        self.links = 0
        self.entities = False  # typed entities: decoding them is left to the real parser
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if kind in ("Characters", "SpaceCharacters"):
                self.parts.append(token["data"])
            elif kind == "Entity":
                self.entities = True
            elif name in _SEPARATORS:
                self.parts.append(" ")
            if kind == "StartTag" and name == "a":
                self.links += 1
            yield token


@dataclass(frozen=True)
class SanitizedBody:
    """Sanitized HTML with what a reader sees of it: visible_text(html), count_links(html)."""

    html: str
    text: str
    links: int


# What sanitize_body learned about the HTML it produced, so that inspecting that same
# string again (the rules do, right after validation) costs a dict lookup, not a parse.
_INSPECTED: dict[str, tuple[str, int]] = {}
_INSPECTED_MAX = 64


def sanitize_body(text: str) -> SanitizedBody:
    """Sanitize like sanitize_html, and inspect the result in the same pass."""
    with _LOCK:
        stream: Iterable[Token] = _Prune(_WALKER(_PARSER.parseFragment(text)))
        stream = BleachSanitizerFilter(
            stream,
            allowed_tags=_INPUT_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            allowed_protocols=ALLOWED_PROTOCOLS,
            strip_disallowed_tags=True,
            strip_html_comments=True,
        )
        stream = LinkifyFilter(
            stream,
            callbacks=[_nofollow_ugc],  # runs for typed <a> too, so every link gets rel
            skip_tags={"code"},  # existing <a> contents are never linkified by bleach
            parse_email=False,
            url_re=_URL_RE,
        )
        inspect = _Inspect(_Paragraphs(stream))
        html = _SERIALIZER.render(inspect)
    if inspect.entities:
        found = _inspect(html)
    else:
        found = (_collapse("".join(inspect.parts)), inspect.links)
    with _LOCK:
        if len(_INSPECTED) >= _INSPECTED_MAX:
            del _INSPECTED[next(iter(_INSPECTED))]
        _INSPECTED[html] = found
    return SanitizedBody(html, *found)


def sanitize_html(text: str) -> str:
    """Return the commenter's raw body as safe HTML wrapped in <p> paragraphs."""
    return sanitize_body(text).html


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _inspect(html: str) -> tuple[str, int]:
    """Visible text and link count of sanitized HTML, from one parse."""
    known = _INSPECTED.get(html)
    if known is not None:
        return known
    with _LOCK:
        tree = _TEXT_PARSER.parseFragment(html)
    parts, links = [], 0
    for token in _Prune(_WALKER(tree)):
        kind, name = token["type"], token.get("name")
        if kind in ("Characters", "SpaceCharacters"):
            parts.append(token["data"])
        elif name in _SEPARATORS:
            parts.append(" ")  # these separate words visually even without whitespace
        if kind == "StartTag" and name == "a":
            links += 1
    return _collapse("".join(parts)), links


def visible_text(html: str) -> str:
    """The text a reader sees in sanitized HTML: entities decoded, whitespace collapsed."""
    return _inspect(html)[0]


def count_links(html: str) -> int:
    """Number of <a> elements in sanitized HTML, typed and auto-linked alike."""
    return _inspect(html)[1]
