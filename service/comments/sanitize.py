"""Turn a commenter's raw text into safe, display-ready HTML, and inspect such HTML.

This is the only module that imports bleach: an allowlist clean, rel="nofollow ugc" links,
auto-linked bare URLs and WordPress-style paragraphs, all done on the html5lib token stream.
Text is read as a browser reads it first (markup.py): a `<` that opens no real element is
text, character references are decoded, and only then is anything kept or dropped.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from html import unescape
from typing import TYPE_CHECKING, Any

from bleach import html5lib_shim as shim
from bleach.linkifier import LinkifyFilter
from bleach.sanitizer import BleachSanitizerFilter

from service.comments.markup import (
    decode_attribute,
    is_safe_url,
    prepare_for_parsing,
    read_references,
    restore,
)
from service.comments.paragraphs import Paragraphs, Token, Written, serialize

if TYPE_CHECKING:
    # The html5lib that bleach vendors (and its shim re-exports) is the one types-html5lib
    # describes.
    from html5lib.filters.base import Filter
    from html5lib.treewalkers import getTreeWalker
else:
    Filter, getTreeWalker = shim.Filter, shim.getTreeWalker

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
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})  # for href and cite, see _SafeUrls
_URL_ATTRIBUTES = frozenset({(None, "href"), (None, "cite")})

# Elements whose content is code, markup or form state rather than prose: dropped whole.
DROP_CONTENT_TAGS = frozenset(
    {"script", "style", "template", "iframe", "noscript", "noembed", "noframes", "xmp"}
    | {"textarea", "title", "object", "embed", "svg", "math", "select", "option"}
)
# Limits that keep sanitizing linear and the HTML within MAX_GROWTH (documented in README);
# the pre-parse ones are in markup.py, MAX_INLINE_DEPTH in paragraphs.py.
# Reopening inline elements cut by a blank line or a blockquote writes their tags again; a
# body may spend this much plus a quarter of its own length on that, then they stay closed.
_REOPEN_BUDGET = 64
_REOPEN_SHARE = 4
# The HTML is at most 4 characters per typed one (`<` is `&lt;`) plus 1 KB. Only link floods
# and formatting cut by many blank lines grow more; such a body is stored as plain paragraphs.
MAX_GROWTH, MAX_GROWTH_SLACK = 4, 1024
_INPUT_TAGS = ALLOWED_TAGS - _DISPLAY_TAGS
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
_WALKER = getTreeWalker("etree")
# A tag's attributes as bleach's link callbacks see them, keyed by (namespace, name).
Attributes = MutableMapping[tuple[str | None, str], str]


def _nofollow_ugc(attrs: Attributes, is_new: bool = False) -> Attributes:
    attrs[(None, "rel")] = REL  # replaces any rel the commenter wrote
    return attrs


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    return name in ALLOWED_ATTRIBUTES.get(tag, ())


class _References(Filter):
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


class _SafeUrls(Filter):
    """Our own check after bleach's: href and cite only relative or http, https, mailto.
    The attribute goes; the element and its text stay."""

    def __iter__(self) -> Iterator[Token]:
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["data"]:
                for key in _URL_ATTRIBUTES & token["data"].keys():
                    if not is_safe_url(token["data"][key], ALLOWED_PROTOCOLS):
                        del token["data"][key]
            yield token


class _Linkify(LinkifyFilter):
    def extract_entities(self, token: Token) -> Iterator[Token]:
        yield token  # already decoded, see _References


class _Prune(Filter):
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


def _render(tree: Any, text: str, *, plain: bool) -> Written:
    """The HTML for a parsed body, None past the bound; plain keeps only the text and its
    paragraphs, which never pass it."""
    stream: Iterable[Token] = _References(_Prune(_WALKER(tree)))
    stream = _Sanitizer(
        # bleach's stubs ask for a TreeWalker where any token stream works: bleach's own
        # Cleaner feeds its filters one another.
        stream,  # type: ignore[arg-type]
        allowed_tags=frozenset() if plain else _INPUT_TAGS,
        attributes=_allowed_attribute,
        attr_val_is_uri=frozenset(),  # _SafeUrls: bleach's check decodes unlike a browser
        strip_disallowed_tags=True,
        strip_html_comments=True,
    )
    if not plain:
        stream = _Linkify(
            _SafeUrls(stream),  # type: ignore[arg-type]  # a token stream, as above
            callbacks=[_nofollow_ugc],  # runs for typed <a> too, so every link gets rel
            skip_tags={"code"},  # existing <a> contents are never linkified by bleach
            parse_email=False,
            url_re=_URL_RE,
        )
    budget = _REOPEN_BUDGET + len(text) // _REOPEN_SHARE
    limit = float("inf") if plain else MAX_GROWTH * len(text) + MAX_GROWTH_SLACK
    return serialize(Paragraphs(stream, budget), limit)


def sanitize_body(text: str) -> SanitizedBody:
    """Sanitize like sanitize_html, and inspect the result in the same pass."""
    source = prepare_for_parsing(text)
    with _LOCK:
        tree = _PARSER.parseFragment(source)
    written = _render(tree, text, plain=False)
    if written.html is None:
        written = _render(tree, text, plain=True)
    html = written.html or ""  # plain paragraphs have no limit
    found = (_collapse("".join(written.parts)), written.links)
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
    # The commonest references in bulk first ("&amp;lt;" holds no "&lt;"), the rest one by one.
    text = text.replace("&lt;", "<").replace("&gt;", ">")
    if "&" in text:
        text = unescape(text)
    return _collapse(text), len(_LINK_START.findall(html))


def visible_text(html: str) -> str:
    """The text a reader sees in sanitized HTML: entities decoded, whitespace collapsed."""
    return _inspect(html)[0]


def count_links(html: str) -> int:
    """Number of <a> elements in sanitized HTML, typed and auto-linked alike."""
    return _inspect(html)[1]
