"""Turn a commenter's raw text into safe, display-ready HTML, and inspect such HTML.

This is the only module that imports bleach: an allowlist clean, rel="nofollow ugc" links,
auto-linked bare URLs and WordPress-style paragraphs, all done on the html5lib token stream.
Text is read as a browser reads it first (markup.py): a `<` that opens no real element is
text, character references are decoded, and only then is anything kept or dropped.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from bleach import html5lib_shim as shim
from bleach.linkifier import LinkifyFilter
from bleach.sanitizer import BleachSanitizerFilter

from service.comments.markup import (
    decode_attribute,
    escape_text,
    is_safe_url,
    prepare_for_parsing,
    quote_attribute,
    read_references,
    restore,
)

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
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})  # markup.is_safe_url applies it
_URL_ATTRIBUTES = frozenset({(None, "href"), (None, "cite")})

# Elements whose content is code, markup or form state rather than prose: dropped whole.
DROP_CONTENT_TAGS = frozenset(
    {"script", "style", "template", "iframe", "noscript", "noembed", "noframes", "xmp"}
    | {"textarea", "title", "object", "embed", "svg", "math", "select", "option"}
)
# Limits that keep sanitizing linear and the HTML within MAX_GROWTH (documented in README).
MAX_INLINE_DEPTH = 8  # deeper nested inline elements are dropped, their text kept
# Reopening inline elements cut by a blank line or a blockquote writes their tags again; a
# body may spend this much plus a quarter of its own length on that, then they stay closed.
_REOPEN_BUDGET = 64
_REOPEN_SHARE = 4
# The HTML is at most 4 characters per typed one (`<` is `&lt;`) plus 1 KB. Only link floods
# and formatting cut by many blank lines grow more; such a body is stored as plain paragraphs.
MAX_GROWTH, MAX_GROWTH_SLACK = 4, 1024
_INPUT_TAGS = ALLOWED_TAGS - _DISPLAY_TAGS
_BLOCK_TAGS = frozenset({"blockquote"})
_SEPARATORS = frozenset({"p", "br", "blockquote"})  # separate words even without whitespace
_BLANK = " \t\r\f"  # not U+00A0: a typed non-breaking space is deliberate content
_MARKUP_CHARACTERS = frozenset("&<>")  # references to these become text: same HTML either way
REL = "nofollow ugc"
_ANY_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_SEPARATOR_TAG = re.compile(r"</?(?:p|br|blockquote)(?=[\t\n\f\r />])[^>]*>", re.IGNORECASE)
_LINK_START = re.compile(r"<a(?=[\t\n\f\r />])", re.IGNORECASE)

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
# sanitize with the strict input allowlist. The parser holds state, so parses are serialized.
# bleach keeps references undecoded in text and attributes and decodes them again in several
# places, each its own way; here _References decodes them once, as a browser does, and every
# later step sees decoded text (references survive only as Entity tokens, already checked).
_LOCK = threading.Lock()
_PARSER = shim.BleachHTMLParser(
    tags=_INPUT_TAGS | DROP_CONTENT_TAGS,
    strip=True,
    consume_entities=False,
    namespaceHTMLElements=False,
)
_WALKER = shim.getTreeWalker("etree")


def _nofollow_ugc(attrs: dict[Any, str], is_new: bool) -> dict[Any, str]:
    attrs[(None, "rel")] = REL  # replaces any rel the commenter wrote
    return attrs


class _References(shim.Filter):
    """Decode character references in text and attribute values the way a browser reads
    them and remove control characters. A reference to a printable character stays a
    reference (an Entity token carrying its value), so `&nbsp;` is written as typed."""

    def __iter__(self) -> Iterator[Token]:
        for token in super().__iter__():
            kind = token["type"]
            if kind == "Characters":
                yield from self._text(restore(token["data"]))
            elif kind in ("StartTag", "EmptyTag") and token["data"]:
                data = token["data"].items()
                token["data"] = {key: decode_attribute(restore(value)) for key, value in data}
                yield token
            else:
                yield token

    def _text(self, data: str) -> Iterator[Token]:
        if "&" not in data:
            yield {"type": "Characters", "data": data}
            return
        for text, name in read_references(data):
            if name is None or text in _MARKUP_CHARACTERS:
                yield {"type": "Characters", "data": text}
            else:
                yield {"type": "Entity", "name": name, "value": text}


class _Sanitizer(BleachSanitizerFilter):
    def sanitize_characters(self, token: Token) -> Token:
        return token  # already decoded: bleach would read `&lt;` typed as `&amp;lt;` again


class _SafeUrls(shim.Filter):
    """Our own check after bleach's: href and cite only relative or http, https, mailto.
    The attribute goes; the element and its text stay."""

    def __iter__(self) -> Iterator[Token]:
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["data"]:
                for key in _URL_ATTRIBUTES & token["data"].keys():
                    if not is_safe_url(token["data"][key]):
                        del token["data"][key]
            yield token


class _Linkify(LinkifyFilter):
    def extract_entities(self, token: Token) -> Iterator[Token]:
        yield token  # already decoded, see _References


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


# Flags the paragraph step sets on inline start tags; the serializer ignores them.
_SHOWN, _DROPPED = "shown", "dropped"


class _Paragraphs(shim.Filter):
    """wpautop for comments: blank line → new <p>, newline → <br>, never an empty <p>.

    Inline start tags are held back until text follows, so whitespace-only runs make no
    paragraph, and inline elements cut by a paragraph break are closed and reopened while
    the reopen budget lasts. Inline elements nested deeper than MAX_INLINE_DEPTH are dropped.
    """

    def __init__(self, source: Iterable[Token], reopen_budget: int) -> None:
        super().__init__(source)
        self.reopen_budget = reopen_budget

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
                inline = self.levels[-1].inline
                token[_DROPPED] = len(inline) >= MAX_INLINE_DEPTH
                inline.append(token)
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
        for start in level.inline[level.emitted :]:
            if self._open(start):
                yield start
        level.emitted, level.breaks, level.ws = len(level.inline), 0, ""
        yield token

    def _open(self, start: Token) -> bool:
        """Whether to write this inline start tag now; a second time costs budget."""
        if start[_DROPPED]:
            return False
        if start.get(_SHOWN):
            cost = len(_start_tag(start)) + len(start["name"]) + 3
            if cost > self.reopen_budget:
                start[_DROPPED] = True
                return False
            self.reopen_budget -= cost
        start[_SHOWN] = True
        return True

    def _end_inline(self, token: Token) -> Iterator[Token]:
        level = self.levels[-1]
        start = level.inline.pop() if level.inline else None
        if level.emitted > len(level.inline):  # it is open in the current <p>: close it
            level.emitted = len(level.inline)
            if level.ws and not level.breaks:
                yield {"type": "Characters", "data": level.ws}
            level.ws = ""
            if start is not None and not start[_DROPPED]:
                yield token

    def _close_p(self) -> Iterator[Token]:
        level = self.levels[-1]
        if level.in_p:
            for start in reversed(level.inline[: level.emitted]):
                if not start[_DROPPED]:
                    yield _tag("EndTag", start["name"])
            yield _tag("EndTag", "p")
        level.in_p, level.emitted, level.breaks, level.ws = False, 0, 0, ""


class _Inspect(shim.Filter):
    """Passes the finished stream through, noting what visible_text and count_links would
    find in the serialized HTML, so validation and the rules need no second parse."""

    def __iter__(self) -> Iterator[Token]:
        self.parts: list[str] = []
        self.links = 0
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if kind in ("Characters", "SpaceCharacters"):
                self.parts.append(token["data"])
            elif kind == "Entity":
                self.parts.append(token["value"])
            elif name in _SEPARATORS:
                self.parts.append(" ")
            if kind == "StartTag" and name == "a":
                self.links += 1
            yield token


def _start_tag(token: Token) -> str:
    attributes = "".join(
        f" {name}={quote_attribute(value)}" for (_, name), value in token["data"].items()
    )
    return f"<{token['name']}{attributes}>"


def _serialize(stream: Iterable[Token]) -> str:
    """Write the token stream as HTML. Adjacent text is escaped as one piece, so an `&`
    at the end of one token is escaped if the next token's text makes it a reference."""
    out: list[str] = []
    text: list[str] = []
    for token in stream:
        kind = token["type"]
        if kind in ("Characters", "SpaceCharacters"):
            text.append(token["data"])
            continue
        if text:
            out.append(escape_text("".join(text)))
            text.clear()
        if kind == "Entity":
            out.append(f"&{token['name']};")
        elif kind in ("StartTag", "EmptyTag"):
            out.append(_start_tag(token))
        elif kind == "EndTag":
            out.append(f"</{token['name']}>")
    if text:
        out.append(escape_text("".join(text)))
    return "".join(out)


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


def _render(tree: Any, text: str, *, plain: bool) -> tuple[str, _Inspect]:
    """The HTML for a parsed body; plain keeps only the text and its paragraphs."""
    stream: Iterable[Token] = _References(_Prune(_WALKER(tree)))
    stream = _Sanitizer(
        stream,
        allowed_tags=frozenset() if plain else _INPUT_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attr_val_is_uri=frozenset(),  # _SafeUrls: bleach's check decodes unlike a browser
        strip_disallowed_tags=True,
        strip_html_comments=True,
    )
    if not plain:
        stream = _Linkify(
            _SafeUrls(stream),
            callbacks=[_nofollow_ugc],  # runs for typed <a> too, so every link gets rel
            skip_tags={"code"},  # existing <a> contents are never linkified by bleach
            parse_email=False,
            url_re=_URL_RE,
        )
    budget = _REOPEN_BUDGET + len(text) // _REOPEN_SHARE
    inspect = _Inspect(_Paragraphs(stream, budget))
    return _serialize(inspect), inspect


def sanitize_body(text: str) -> SanitizedBody:
    """Sanitize like sanitize_html, and inspect the result in the same pass."""
    source = prepare_for_parsing(text)
    with _LOCK:
        tree = _PARSER.parseFragment(source)
    html, inspect = _render(tree, text, plain=False)
    if len(html) > MAX_GROWTH * len(text) + MAX_GROWTH_SLACK:
        html, inspect = _render(tree, text, plain=True)
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
    """Visible text and link count of sanitized HTML. Its attribute values never hold a raw
    `<` or `>`, so tags are exactly the `<...>` runs and regular expressions read it whole."""
    known = _INSPECTED.get(html)
    if known is not None:
        return known
    text = _ANY_TAG.sub("", _SEPARATOR_TAG.sub(" ", html))
    return _collapse(unescape(text)), len(_LINK_START.findall(html))


def visible_text(html: str) -> str:
    """The text a reader sees in sanitized HTML: entities decoded, whitespace collapsed."""
    return _inspect(html)[0]


def count_links(html: str) -> int:
    """Number of <a> elements in sanitized HTML, typed and auto-linked alike."""
    return _inspect(html)[1]
