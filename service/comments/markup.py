"""How a browser reads commenter text before any HTML parser gets a say: which `<` opens a
tag, what a character reference stands for, and which link targets are safe; plus the
escaping that writes decoded text back so that a browser reads exactly that text again.

Every function here is linear in its input: the sanitizer runs them on whole bodies.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.entities import html5 as _NAMED

# Every element name the HTML standard gives a meaning, including the obsolete ones browsers
# still parse (image is read as img), and the svg and math roots. A `<` followed by any other
# name is text, as a reader sees it; the sanitizer drops or keeps only these.
_ELEMENT_NAMES = """
    a abbr address area article aside audio b base bdi bdo blockquote body br button canvas
    caption cite code col colgroup data datalist dd del details dfn dialog div dl dt em embed
    fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 head header hgroup hr html i
    iframe img input ins kbd label legend li link main map mark menu meta meter nav noscript
    object ol optgroup option output p param picture pre progress q rp rt ruby s samp script
    search section select slot small source span strong style sub summary sup table tbody td
    template textarea tfoot th thead time title tr track u ul var video wbr
    acronym applet basefont bgsound big blink center dir font frame frameset image isindex
    keygen listing marquee menuitem multicol nextid nobr noembed noframes plaintext rb rtc
    spacer strike tt xmp svg math"""
HTML_ELEMENTS = frozenset(_ELEMENT_NAMES.split())
# A `<` opens markup only before a known element name ended by whitespace, "/" or ">" (start
# or end tag), or before "!--" (a comment); any other `<` is text.
_TAG_START = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)(?=[\t\n\f\r />])")
_NO_TAG_START = re.compile(r"<(?!/?[A-Za-z][A-Za-z0-9]*[\t\n\f\r />]|!--)")
_VOID_ELEMENTS = frozenset(
    {"area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img"}
    | {"input", "keygen", "link", "meta", "param", "source", "track", "wbr"}
)
# html5lib, a pure-Python parser, slows down with every tag and quadratically with nesting
# depth (its scope and formatting-element scans walk the open elements). These caps bound
# both before it parses; `<` past them is shown as typed.
MAX_TAGS = 1000  # start and end tags read as markup
MAX_OPEN = 32  # elements open at once, counted per name
MAX_TAG_CHARS = 2048  # from `<` to `>`; longer tags are text (html5lib is slow on them)
MAX_ATTRIBUTES = 16  # per tag; html5lib checks each new attribute against all before it
# Private-use characters stand in for every `&` and for each `<` that is text while html5lib
# parses, so it neither reads references nor sees stray `<` (both cost it a step per
# character). Typed ones are written as _ESCAPE and a digit first, so nothing is confused.
AMPERSAND, STRAY_LESS_THAN, _ESCAPE = "\ue000", "\ue001", "\ue002"
_RESERVED = re.compile("[\ue000-\ue002]")
_TAG_REST = re.compile(r"""(?:[^"'>]++|"[^"]*+"|'[^']*+')*+>?""")
_ATTRIBUTE_START = re.compile(r"""[\t\n\f\r /]+|"[^"]*+"|'[^']*+'""")

# Characters no comment needs, removed wherever they appear, typed or written as references:
# controls except tab and newline, lone surrogates, and Unicode noncharacters.
REMOVED_CHARACTERS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(chr(plane + 0xFFFE) + chr(plane + 0xFFFF) for plane in range(0, 0x110000, 0x10000))
    + "]"
)
# Named references are at most 32 characters with their ";" (CounterClockwiseContourIntegral;).
_REFERENCE = re.compile(r"&(?:#([xX][0-9A-Fa-f]+|[0-9]+);?|([A-Za-z][A-Za-z0-9]{0,31};?))")
_ALPHANUMERIC = re.compile(r"[A-Za-z0-9=]")  # after a legacy reference in an attribute
_MAX_CODE_POINT_DIGITS = 7  # 0x10FFFF is 1114111; anything longer is out of range anyway
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]")
_AMBIGUOUS_AMPERSAND = re.compile(r"&(?=[A-Za-z0-9#])")


def prepare_for_parsing(text: str) -> str:
    """The body with REMOVED_CHARACTERS gone, every `&` as AMPERSAND and every `<` that does
    not open a real element or comment (or would pass MAX_TAGS, MAX_OPEN, MAX_TAG_CHARS or
    MAX_ATTRIBUTES) as STRAY_LESS_THAN. restore() turns them back after parsing."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as html5lib would, before removal
    text = REMOVED_CHARACTERS.sub("", text)
    if _RESERVED.search(text):
        text = _RESERVED.sub(lambda typed: _ESCAPE + str(ord(typed.group()) - 0xE000), text)
    text = _NO_TAG_START.sub(STRAY_LESS_THAN, text.replace("&", AMPERSAND))
    tags, depth, open_by_name = 0, 0, dict.fromkeys(HTML_ELEMENTS, 0)

    def read(match: re.Match[str]) -> str:
        nonlocal tags, depth
        end, name = match.group(1), match.group(2).lower()
        if name not in HTML_ELEMENTS or tags >= MAX_TAGS:
            return STRAY_LESS_THAN + match.group(0)[1:]
        tags += 1  # counted before the checks: each check scans at most MAX_TAG_CHARS
        found = _TAG_REST.match(text, match.end(), match.start() + MAX_TAG_CHARS)
        rest = found.group() if found else ""  # never None: the pattern matches "" too
        if not rest.endswith(">") or len(_ATTRIBUTE_START.findall(rest)) > MAX_ATTRIBUTES:
            return STRAY_LESS_THAN + match.group(0)[1:]
        if end:
            if open_by_name[name]:
                open_by_name[name] -= 1
                depth -= 1
        elif name not in _VOID_ELEMENTS:
            if depth >= MAX_OPEN:
                return STRAY_LESS_THAN + match.group(0)[1:]
            open_by_name[name] += 1
            depth += 1
        return match.group(0)

    return _TAG_START.sub(read, text)


def restore(parsed: str) -> str:
    """Undo prepare_for_parsing's stand-ins in text or an attribute value from the parser."""
    parsed = parsed.replace(AMPERSAND, "&").replace(STRAY_LESS_THAN, "<")
    if _ESCAPE in parsed:
        for digit in "012":
            parsed = parsed.replace(_ESCAPE + digit, chr(0xE000 + int(digit)))
    return parsed


def _numeric(digits: str) -> str:
    hexadecimal = digits[0] in "xX"
    digits = (digits[1:] if hexadecimal else digits).lstrip("0") or "0"
    if len(digits) > _MAX_CODE_POINT_DIGITS:
        return "\ufffd"  # out of range, like a browser; int() of it would be slow or refused
    # html.unescape applies the HTML standard's table: 0 and surrogates become U+FFFD,
    # 0x80-0x9F are read as windows-1252, most controls and noncharacters vanish.
    return html.unescape(f"&#{int(digits, 16 if hexadecimal else 10)};")


def _longest_name(candidate: str) -> str | None:
    if candidate in _NAMED:
        return candidate
    # Without ";" only the legacy names count, and the longest one wins (&notit; is ¬it;).
    for end in range(len(candidate) - 1, 1, -1):
        if candidate[:end] in _NAMED:
            return candidate[:end]
    return None


def read_references(raw: str, *, in_attribute: bool = False) -> Iterator[tuple[str, str | None]]:
    """Split raw HTML text into (literal text, None) and (value, name) for each character
    reference a browser decodes there; name is the canonical reference without & and ;
    (`nbsp`, `#229`). References to REMOVED_CHARACTERS are left out, like those characters.
    """
    done = 0
    for match in _REFERENCE.finditer(raw):
        digits, candidate = match.groups()
        if digits is not None:
            value = REMOVED_CHARACTERS.sub("", _numeric(digits))
            name = f"#{ord(value)}" if value else ""
            end = match.end()
        else:
            found = _longest_name(candidate)
            if found is None:
                continue
            end = match.start() + 1 + len(found)
            # In attributes, &copy=1 and &copyx stay as typed (legacy names without ";").
            if in_attribute and not found.endswith(";") and _ALPHANUMERIC.match(raw, end):
                continue
            value = REMOVED_CHARACTERS.sub("", _NAMED[found])
            name = found.rstrip(";")
        if match.start() > done:
            yield raw[done : match.start()], None
        if value:
            yield value, name
        done = end
    if done < len(raw):
        yield raw[done:], None


def decode_attribute(raw: str) -> str:
    """An attribute value as a browser reads it, without REMOVED_CHARACTERS."""
    if "&" not in raw:
        return REMOVED_CHARACTERS.sub("", raw)
    return "".join(
        REMOVED_CHARACTERS.sub("", text) if name is None else text
        for text, name in read_references(raw, in_attribute=True)
    )


def is_safe_url(url: str, schemes: frozenset[str]) -> bool:
    """Whether a decoded href or cite is relative or uses one of these (lowercase) schemes.

    Browsers ignore tab and newline anywhere and controls and spaces in front; this removes
    every control and space, which can only turn more values into a scheme and so drop more.
    """
    scheme = _SCHEME.match(_IGNORED_IN_URLS.sub("", url))
    return scheme is None or scheme.group(1).lower() in schemes


def escape_text(text: str) -> str:
    """Text as HTML: `<` and `>` escaped, `&` only where it could start a reference, so no
    character grows more than four-fold."""
    text = _AMBIGUOUS_AMPERSAND.sub("&amp;", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def quote_attribute(value: str) -> str:
    """A quoted attribute value; the rarer quote character is the one escaped."""
    value = escape_text(value)
    if value.count('"') <= value.count("'"):
        return '"' + value.replace('"', "&quot;") + '"'
    return "'" + value.replace("'", "&#39;") + "'"
