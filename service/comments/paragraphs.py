"""The last steps of sanitizing, on html5lib token dicts already checked by the sanitizer:
WordPress-style paragraphs, and writing the HTML with what a reader sees of it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from service.comments.markup import escape_text, quote_attribute

Token = dict[str, Any]
MAX_INLINE_DEPTH = 8  # deeper nested inline elements are dropped, their text kept
_BLOCK_TAGS = frozenset({"blockquote"})
SEPARATORS = frozenset({"p", "br", "blockquote"})  # separate words even without whitespace
_BLANK = " \t\r\f"  # not U+00A0: a typed non-breaking space is deliberate content


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


class Paragraphs:
    """wpautop for comments: blank line → new <p>, newline → <br>, never an empty <p>.

    Inline start tags are held back until text follows, so whitespace-only runs make no
    paragraph, and inline elements cut by a paragraph break are closed and reopened while
    the reopen budget lasts. Inline elements nested deeper than MAX_INLINE_DEPTH are dropped.
    """

    def __init__(self, source: Iterable[Token], reopen_budget: int) -> None:
        self.source = source
        self.reopen_budget = reopen_budget

    def __iter__(self) -> Iterator[Token]:
        self.levels = [_Level()]
        for token in self.source:
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
            cost = len(start_tag(start)) + len(start["name"]) + 3
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


def start_tag(token: Token) -> str:
    if not token["data"]:
        return f"<{token['name']}>"
    attributes = "".join(
        f" {name}={quote_attribute(value)}" for (_, name), value in token["data"].items()
    )
    return f"<{token['name']}{attributes}>"


@dataclass
class Written:
    """The HTML of a token stream with what visible_text and count_links would find in it,
    noted while writing, so validation and the rules need no second parse."""

    html: str | None = None  # None: it passed the size limit
    parts: list[str] = field(default_factory=list)
    links: int = 0


def serialize(stream: Iterable[Token], limit: float) -> Written:
    """Write the token stream as HTML, stopping as soon as it passes limit characters.
    Adjacent text is escaped as one piece, so an `&` at the end of one token is escaped if
    the next token's text makes it a reference."""
    written = Written()
    out: list[str] = []
    text = written.parts  # visible text is the text tokens plus a space per separator
    pending = 0  # text tokens not yet escaped into out
    length = 0
    for token in stream:
        kind = token["type"]
        if kind in ("Characters", "SpaceCharacters"):
            text.append(token["data"])
            pending += 1
            continue
        if pending:
            out.append(escape_text("".join(text[-pending:])))
            length += len(out[-1])
            pending = 0
        name = token.get("name")
        if kind == "Entity":
            out.append(f"&{name};")
            text.append(token["value"])
        elif kind in ("StartTag", "EmptyTag"):
            out.append(start_tag(token))
            written.links += name == "a"
        elif kind == "EndTag":
            out.append(f"</{name}>")
        if name in SEPARATORS:
            text.append(" ")
        length += len(out[-1])
        if length > limit:
            return written
    if pending:
        out.append(escape_text("".join(text[-pending:])))
    html = "".join(out)
    written.html = html if len(html) <= limit else None
    return written
