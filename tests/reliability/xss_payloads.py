"""Thousands of hostile comment bodies: three public XSS corpora (DOMPurify's fixtures, the
HTML5 Security Cheatsheet, payloadbox's list; see corpus/*.json for source and licence),
hand-written classics, and our own generators for each markup item of issue 10: script URLs
the URL parser misreads, lost escaping levels, control characters as references, text that
only looks like a tag, and inputs whose paragraphs or nesting blow up the output.

Text-only payloads say what a reader must see (`reader_sees`); the others must only be
harmless."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
CORPORA = ("dompurify", "h5sc", "payloadbox")


@dataclass(frozen=True)
class Payload:
    family: str  # a corpus name, "classic", or the generator (issue item) it comes from
    body: str
    reader_sees: str | None = None  # exact visible text, whitespace collapsed


CLASSICS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//127.0.0.1:9/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script>alert(1)//",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=alert`1`>",
    '<img src="x" onerror="alert(1)"/>',
    "<img/src=x/onerror=alert(1)>",
    "<IMG SRC=x oNeRrOr=alert(1)>",
    "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>",
    "<body onload=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<svg><set attributeName=onmouseover to=alert(1)><rect width=100 height=100></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x=20 y=20>x</text></a></svg>',
    "<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mtext></math>",
    '<math href="javascript:alert(1)">x</math>',
    "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<p title="</p><img src=x onerror=alert(1)>">x</p>',
    '<style><img src="</style><img src=x onerror=alert(1)//">',
    "<textarea></textarea><img src=x onerror=alert(1)>",
    "<title></title><img src=x onerror=alert(1)>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<noembed><img src=x onerror=alert(1)></noembed>",
    "<template><img src=x onerror=alert(1)></template>",
    "<iframe src=javascript:alert(1)>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<iframe srcdoc="&lt;img src=x onerror=alert(1)&gt;"></iframe>',
    '<iframe src="data:text/html,<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)">',
    '<embed src="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/">',
    '<base href="javascript:alert(1)//"><a href="x">base</a>',
    '<base href="http://127.0.0.1:9/"><a href="x">base</a>',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<form><button formaction="javascript:alert(1)">go</button></form>',
    "<input autofocus onfocus=alert(1)>",
    "<select autofocus onfocus=alert(1)></select>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<div onmouseover=alert(1)>hover</div>",
    "<b onmouseover=alert(1)>fet</b>",
    "<a href=# onclick=alert(1)>klick</a>",
    "<em onfocus=alert(1) tabindex=1 autofocus>x</em>",
    '<div style="width: expression(alert(1))">IE</div>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>@import 'javascript:alert(1)';</style>",
    '<link rel=stylesheet href="javascript:alert(1)">',
    "<b><i><a href=javascript:alert(1)>nested</b></i>",
    "<a href=javascript:alert(1)>unclosed",
    "<<script>alert(1);//<</script>",
    "<img src=x onerror=alert(1)//",
    "<a href='javascript:alert(1)'>single</a>",
    "<a href=`javascript:alert(1)`>backtick</a>",
    "<blockquote cite=javascript:alert(1) onclick=alert(1)>citat</blockquote>",
    "<q cite=javascript:alert(1)>q</q>",
    "<code><script>alert(1)</script></code>",
    "<plaintext><img src=x onerror=alert(1)>",
    '<isindex action="javascript:alert(1)" type=submit>',
    "<keygen autofocus onfocus=alert(1)>",
    "<x onclick=alert(1)>custom</x>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</p><script>alert(1)</script><p>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<!--><img src=x onerror=alert(1)>-->",
    "<![CDATA[<img src=x onerror=alert(1)>]]>",
]

# Mutation XSS: markup whose second parse differs from the first, within and around the
# elements we allow (a sanitizer that serializes one tree must not hand the reader another).
MUTATIONS = [
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;/mglyph&gt;'
    '&lt;img&Tab;src=1&Tab;onerror=alert(1)&gt;">',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    '<svg><style><img src=x onerror="alert(1)"></style></svg>',
    '<a title="</a><img src=x onerror=alert(1)>">x</a>',
    '<abbr title="&lt;/abbr&gt;&lt;img src=x onerror=alert(1)&gt;">x</abbr>',
    '<q cite="x"></q><img src=x onerror=alert(1)//">',
    '<blockquote><p title="</blockquote><img src=x onerror=alert(1)>">x</p></blockquote>',
    "<code><a href=javascript:alert(1)>x</a></code>",
    "<code><code></code><img src=x onerror=alert(1)></code>",
    "<a href=https://exempel.se/><a href=javascript:alert(1)>inre</a></a>",
    "<b><p><a href=javascript:alert(1)>x</b></a>",
    '<del datetime="</del><img src=x onerror=alert(1)>">x</del>',
    "<table><a href=javascript:alert(1)>bordlös</a></table>",
    "<select><a href=javascript:alert(1)>x</a></select>",
    "<noscript><a href=javascript:alert(1)>x</a></noscript>",
    "<!-- --!><img src=x onerror=alert(1)> -->",
    "<?xml-stylesheet href=javascript:alert(1)?><img src=x onerror=alert(1)>",
    "</code><img src=x onerror=alert(1)><code>",
    "&lt;img src=x onerror=alert(1)&gt;<b>&lt;/b&gt;",
]

_SCHEME_BODIES = {
    "javascript": ["alert(1)", "123", "0", "1/alert(1)", "'x'", "alert`1`"],
    "data": ["text/html,<script>alert(1)</script>", "text/html;base64,PHNjcmlwdD4=", "123"],
    "vbscript": ["msgbox(1)", "123"],
    "livescript": ["alert(1)", "123"],
}
_URL_CARRIERS = [
    '<a href="{}">länk</a>',
    "<a href='{}'>länk</a>",
    '<a title="t" href="{}">länk</a>',
    '<blockquote cite="{}">citat</blockquote>',
    '<q cite="{}">citat</q>',
]


def _scheme_spellings(scheme: str) -> Iterator[str]:
    """The scheme and its colon as browsers still read them as that scheme."""
    yield f"{scheme}:"
    yield f"{scheme.upper()}:"
    yield f"{scheme[0].upper()}{scheme[1:]}:"
    yield "".join(f"&#{ord(c)};" for c in scheme) + "&#58;"
    yield "".join(f"&#x{ord(c):x};" for c in scheme) + "&#x3A;"
    yield "".join(f"&#{ord(c):07d};" for c in scheme) + ":"
    yield "".join(f"&#{ord(c)}" for c in scheme) + "&#58"
    yield f"&#{ord(scheme[0])};{scheme[1:]}:"
    for colon in ("&colon;", "&#58;", "&#x3a;", "&#X3A;", "&#0058;"):
        yield f"{scheme}{colon}"
    for split in ("\t", "\n", "\r", "&#9;", "&#x0A;", "&#13;", "&Tab;", "&NewLine;"):
        yield f"{scheme[:4]}{split}{scheme[4:]}:"
        yield f"{scheme[:1]}{split}{scheme[1:]}:"
        yield f"{scheme}{split}:"
    for lead in ("\x01", "\x1f", " ", "\x00", "&#1;", "&#x1F;", "&#32;", "&#0;", "&#8;"):
        yield f"{lead}{scheme}:"
    yield f"&#1;&#2;\t {scheme[:3]}&#x09;{scheme[3:]}&colon;"


def script_urls() -> Iterator[Payload]:
    """Item 1: href/cite values that are script, spelled the ways browsers forgive."""
    turn = 0
    for scheme, bodies in _SCHEME_BODIES.items():
        for spelling in _scheme_spellings(scheme):
            for body in bodies:
                turn += 1
                rotating = _URL_CARRIERS[turn % len(_URL_CARRIERS)]
                for carrier in dict.fromkeys([_URL_CARRIERS[0], _URL_CARRIERS[-1], rotating]):
                    quote, escaped = ("'", "&#39;") if "'{}'" in carrier else ('"', "&quot;")
                    url = (spelling + body).replace(quote, escaped)
                    yield Payload("item1-script-url", carrier.format(url))
            yield Payload("item1-script-url", f"<a href={spelling}alert(1)>oquoterad</a>")


_TEXTS = [
    "<dubbelkodad>",
    "a & b",
    "&",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"citat\" & 'apostrof'",
    "AT&T <3",
]


_TEXT_WRAPPERS = ("{}", "<b>{}</b>", '<a href="https://exempel.se/">{}</a>', "<code>{}</code>")


def double_escaping() -> Iterator[Payload]:
    """Item 2: text escaped 1-4 times reads, after the one decoding HTML does, exactly as
    escaped one level less, alone, in allowed markup, in a link and next to a bare URL."""
    for text in _TEXTS:
        shown = text
        for _ in range(4):
            typed = html.escape(shown, quote=False)
            for wrap in _TEXT_WRAPPERS:
                yield Payload("item2-double-escaping", wrap.format(typed), _collapse(shown))
            yield Payload(
                "item2-double-escaping",
                f"se www.exempel.se och {typed}",
                _collapse(f"se www.exempel.se och {shown}"),
            )
            shown = typed
    for typed, shown in [
        ("&amp;lt;dubbelkodad&amp;gt;", "&lt;dubbelkodad&gt;"),
        ("&amp;amp;", "&amp;"),
        ("&#38;lt;b&#38;gt;", "&lt;b&gt;"),
        ("&amp;#60;b&amp;#62;", "&#60;b&#62;"),
        ("https://exempel.se/?a=1&amp;amp;b=2", "https://exempel.se/?a=1&amp;b=2"),
        ("https://exempel.se/?q=&amp;lt;x&amp;gt;", "https://exempel.se/?q=&lt;x&gt;"),
        ("www.exempel.se/&amp;lt;script&amp;gt;", "www.exempel.se/&lt;script&gt;"),
    ]:
        yield Payload("item2-double-escaping", typed, shown)


# Unicode Cc the validation removes; of C1, browsers map &#128;-&#159; to windows-1252
# except these five, which stay controls.
_CONTROLS = [*range(0, 9), 11, 12, *range(13, 32), 127, 129, 141, 143, 144, 157]


def control_references() -> Iterator[Payload]:
    """Item 3: control characters written as references never reach the reader."""
    for point in _CONTROLS:
        for ref in (f"&#{point};", f"&#x{point:x};", f"&#X{point:02X};", f"&#000{point}"):
            yield Payload("item3-control-reference", f"a{ref}b")
        yield Payload("item3-control-reference", f"<b>x&#{point};y</b> och <q>&#x{point:x};</q>")


_TAG_LIKE_TEXTS = [
    "om x<y & a>b så gäller 3 < 5",
    "om x<y & a>b",
    "<y & a>",
    "a <y> b",
    "<hej du>",
    "1<2 och 3>2",
    "a <= b >= c",
    "pil <- här och -> där",
    "<3 dig",
    "<<>>",
    "x < y > z",
    "<é och å>",
    "<1>",
    "<y&z>",
    "<y & a href=javascript:alert(1)>x</y>",
    "5 <x 7 & 9> 3",
    "om a<y och b>c",
]


def text_like_tags() -> Iterator[Payload]:
    """Item 4: a < that opens no real HTML element is text, alone and in allowed markup."""
    for text in _TAG_LIKE_TEXTS:
        yield Payload("item4-text-like-tag", text, _collapse(text))
        yield Payload("item4-text-like-tag", f"<em>{text}</em>", _collapse(text))
        yield Payload(
            "item4-text-like-tag",
            f"Rad ett\n{text}\n\nStycke två",
            _collapse(f"Rad ett {text} Stycke två"),
        )
    for colon in ("&colon;", "&#58;", "&#x3a;"):
        yield Payload("item4-text-like-tag", f'<a href="javascript{colon}alert(1)">x</a>')


def cost_shapes() -> Iterator[Payload]:
    """Item 5, small: the paragraph step must not reopen every open inline element at each
    blank line, nor copy deep nesting; output stays within 4x the input plus 1 KB."""
    for count in (10, 60, 250):
        yield Payload("item5-cost", "<b>x\n\n" * count)
        yield Payload("item5-cost", "<i><b>x\n\n" * count)
        yield Payload("item5-cost", '<a href="https://exempel.se/">x\n\n' * count)
        yield Payload("item5-cost", "<q>x\n" * count)
        yield Payload("item5-cost", "<b>" * count + "x\n\ny" * count)
        yield Payload("item5-cost", "<blockquote>" * count + "x\n\n" * count)
        yield Payload("item5-cost", "<b><i><em><strong><del>x\n\n" * count)


def nested_inline() -> Iterator[Payload]:
    """Deep and crossed nesting of the allowed inline elements with hostile leaves."""
    leaves = ["<img src=x onerror=alert(1)>", "<a href=javascript:alert(1)>x</a>", "x"]
    for depth in (2, 8, 40):
        for leaf in leaves:
            yield Payload("nested-inline", "<b><i>" * depth + leaf + "</b></i>" * depth)
            yield Payload("nested-inline", "<blockquote><q>" * depth + leaf)
            yield Payload("nested-inline", "<a href=https://e.se/><code>" * depth + leaf)


def parser_edges() -> Iterator[Payload]:
    """Where a sanitizer's own reading of the text can part from the HTML parser's: typed
    private-use characters (a natural choice for internal stand-ins), quotes and slashes
    inside tags, unterminated tags, and the edges of any caps on tags, nesting, tag length
    and attribute count."""
    hostile = '<img src=x onerror=alert(1)><a href="javascript:alert(1)">x</a>'
    for text in (
        "a\ue000b\ue001c\ue002d",
        "\ue001img src=x onerror=alert(1)>",
        "\ue0020\ue0021\ue0022 och \ue000lt;",
        "\uf8ff\U000f0000 privat",
    ):
        yield Payload("parser-edges", text, _collapse(text))
    yield Payload("parser-edges", "&#xE000;lt;script&#xE000;gt;", "\ue000lt;script\ue000gt;")
    yield Payload("parser-edges", "&#57345;img src=x onerror=alert(1)>")
    for tags in (999, 1000, 1001):
        yield Payload("parser-edges", "<b></b>" * (tags // 2) + "<i>" * (tags % 2) + hostile)
    for depth in (31, 32, 33, 100):
        yield Payload("parser-edges", "<b>" * depth + hostile + "</b>" * depth)
        yield Payload("parser-edges", "<blockquote>" * depth + hostile)
    for length in (2000, 2047, 2048, 2100):
        filler = "x" * length
        yield Payload("parser-edges", f'<a title="{filler}" href="javascript:alert(1)">y</a>')
        yield Payload("parser-edges", f"<a href=javascript:alert(1) title={filler}>y</a>")
        yield Payload("parser-edges", f'<b title="{filler}"><img src=x onerror=alert(1)>')
    for count in (15, 16, 17, 40):
        yield Payload("parser-edges", "<a " + "t=1 " * count + "href=javascript:alert(1)>x</a>")
    for edge in (
        '<a title=\'"\' href="javascript:alert(1)">x</a>',
        "<a title=\"'\" href='javascript:alert(1)'>x</a>",
        '<b x"="><img src=x onerror=alert(1)>',
        '<a x=a"b href=javascript:alert(1)>x</a>',
        '<a ="x" href=javascript:alert(1)>x</a>',
        "<a/href=javascript:alert(1)>x</a>",
        "<a\fhref=javascript:alert(1)>x</a>",
        '<a href="javascript:alert(1)"',
        "<a href=javascript:alert(1)",
        '<a title="x>y" href="javascript:alert(1)">z</a>',
        "<a title=x>y href=javascript:alert(1)>z</a>",
        "</ b><img src=x onerror=alert(1)>",
        "<b/><img src=x onerror=alert(1)>",
        "<!--><a href=javascript:alert(1)>x</a>",
        "<!---><a href=javascript:alert(1)>x</a>",
        "<!-- --!><a href=javascript:alert(1)>x</a>",
        "<!DOCTYPE html><a href=javascript:alert(1)>x</a>",
        "<?php ?><a href=javascript:alert(1)>x</a>",
        "<a href=&#x6A;avascript&colon;alert&lpar;1&rpar;>x</a>",
        "<a href=&#x26;#x6A;avascript:alert(1)>x</a>",
        "<a href=javascript&NewLine;:alert(1)>x</a>",
        '<q cite="&Tab;javascript:alert(1)">x</q>',
        "&lt;a href=javascript:alert(1)&gt;x&lt;/a&gt;",
        "&amp;lt;img src=x onerror=alert(1)&amp;gt;",
    ):
        yield Payload("parser-edges", edge)


def _collapse(text: str) -> str:
    return " ".join(text.split())


@cache
def corpus(name: str) -> tuple[str, ...]:
    with (CORPUS / f"{name}.json").open(encoding="utf-8") as file:
        return tuple(json.load(file)["payloads"])


def payloads() -> list[Payload]:
    """Every payload once (the first family that has a body wins), in a stable order."""
    every = [
        *(Payload("classic", body) for body in CLASSICS),
        *(Payload("mutation", body) for body in MUTATIONS),
        *script_urls(),
        *double_escaping(),
        *control_references(),
        *text_like_tags(),
        *cost_shapes(),
        *nested_inline(),
        *parser_edges(),
        *(Payload(name, body) for name in CORPORA for body in corpus(name)),
    ]
    unique: dict[str, Payload] = {}
    for payload in every:
        unique.setdefault(payload.body, payload)
    return list(unique.values())
