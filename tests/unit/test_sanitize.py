"""Tests for service.comments.sanitize: allowlist, protocols, links, paragraphs, text."""

from __future__ import annotations

import importlib.util
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.comments.markup import MAX_TAGS
from service.comments.paragraphs import MAX_INLINE_DEPTH
from service.comments.sanitize import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_PROTOCOLS,
    ALLOWED_TAGS,
    count_links,
    sanitize_body,
    sanitize_html,
    visible_text,
)

REL = 'rel="nofollow ugc"'
INPUT_TAGS = sorted(ALLOWED_TAGS - {"p", "br"})


class _Collector(HTMLParser):
    """Records every start tag: name, decoded attributes and the raw source text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs), self.get_starttag_text() or ""))

    handle_startendtag = handle_starttag


def parse(html: str) -> list[tuple[str, dict[str, str | None], str]]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.tags


def hrefs(html: str) -> list[str | None]:
    return [attrs.get("href") for tag, attrs, _ in parse(html) if tag == "a"]


def url_is_safe(url: str) -> bool:
    # Normalize like a browser does before looking at the scheme: drop controls and spaces.
    cleaned = "".join(c for c in url if c > " " and c != "\x7f").lower()
    return urlsplit(cleaned).scheme in ("", *ALLOWED_PROTOCOLS)


# --- the allowlist -------------------------------------------------------------------------


def test_constants_match_the_contract() -> None:
    assert isinstance(ALLOWED_TAGS, frozenset)
    assert " ".join(INPUT_TAGS) == "a abbr acronym b blockquote cite code del em i q strike strong"
    assert {"p", "br"} <= ALLOWED_TAGS
    assert sorted(ALLOWED_PROTOCOLS) == ["http", "https", "mailto"]
    assert {tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()} == {
        "a": {"href", "title"},
        "abbr": {"title"},
        "acronym": {"title"},
        "blockquote": {"cite"},
        "del": {"datetime"},
        "q": {"cite"},
    }


@pytest.mark.parametrize("tag", INPUT_TAGS)
def test_every_allowed_tag_is_kept(tag: str) -> None:
    out = sanitize_html(f"före <{tag}>mitten</{tag}> efter")
    assert tag in [name for name, _, _ in parse(out)]
    assert ">mitten</" in out  # a blockquote holds its own <p>
    assert visible_text(out) == "före mitten efter"


@pytest.mark.parametrize(
    ("tag", "attr", "value"),
    [
        ("a", "href", "https://example.se/sida"),
        ("a", "title", "En titel"),
        ("abbr", "title", "Sveriges Television"),
        ("acronym", "title", "Sveriges Television"),
        ("blockquote", "cite", "https://example.se/källa"),
        ("del", "datetime", "2024-05-01T12:00:00Z"),
        ("q", "cite", "https://example.se/citat"),
    ],
)
def test_every_allowed_attribute_is_kept(tag: str, attr: str, value: str) -> None:
    out = sanitize_html(f'<{tag} {attr}="{value}">x</{tag}>')
    assert [attrs.get(attr) for name, attrs, _ in parse(out) if name == tag] == [value]


@pytest.mark.parametrize("attr", ["onclick", "style", "class", "id", "onmouseover", "lang"])
@pytest.mark.parametrize("tag", ["a", "b", "blockquote", "code", "q"])
def test_disallowed_attributes_are_dropped(tag: str, attr: str) -> None:
    out = sanitize_html(f'<{tag} {attr}="alert(1)">x</{tag}>')
    assert f"<{tag}" in out
    assert attr not in out
    assert "alert" not in out


@pytest.mark.parametrize("tag", ["div", "span", "p", "img", "h1", "table", "font", "u", "br"])
def test_disallowed_tags_are_stripped_but_their_text_kept(tag: str) -> None:
    out = sanitize_html(f"före <{tag} class='k'>mitten</{tag}> efter")
    assert visible_text(out) == "före mitten efter"
    assert f"<{tag}" not in out.replace("<p>", "").replace("<br>", "")
    assert "class" not in out


def test_typed_p_and_br_are_not_kept_from_input() -> None:
    # Only the paragraph step may emit p/br: typed ones vanish like any disallowed tag.
    assert sanitize_html("a<br>b") == "<p>ab</p>"
    assert sanitize_html('<p class="x">a</p>') == "<p>a</p>"
    assert sanitize_html("<P>a</P><p>b</p>") == "<p>a<br>b</p>"


def test_table_markup_becomes_plain_text() -> None:
    out = sanitize_html("<table><tr><td>cell</td></tr></table>")
    assert out == "<p>cell</p>"


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        "<script type='text/javascript'>var x = '<b>no</b>';</script>",
        "<style>body { display: none }</style>",
        "<template><b>hidden</b></template>",
        "<iframe src='https://evil.example'>hidden</iframe>",
        "<noscript><b>hidden</b></noscript>",
        "<noembed>hidden</noembed>",
        "<noframes>hidden</noframes>",
        "<xmp><b>hidden</b></xmp>",
        "<textarea>hidden <b>x</b></textarea>",
        "<title>hidden</title>",
        "<object data='x.swf'><param name='a'>hidden</object>",
        "<embed src='x.swf'>",
        "<svg><script>alert(1)</script><text>hidden</text></svg>",
        "<math><mi>hidden</mi></math>",
        "<select><option>hidden</option></select>",
        "<option>hidden</option>",
        "<SCRIPT>alert(1)</SCRIPT>",
        "<script>alert(1)",
    ],
)
def test_script_style_and_similar_contents_are_dropped(body: str) -> None:
    out = sanitize_html(f"före {body} efter")
    assert "hidden" not in out
    assert "alert" not in out
    assert "<" not in out.replace("<p>", "").replace("</p>", "")
    assert visible_text(out) in ("före efter", "före")  # an unclosed <script> eats the rest


def test_script_content_is_dropped() -> None:
    assert sanitize_html("<script>alert(1)</script>") == ""
    assert sanitize_html("hej<script>alert(1)</script>") == "<p>hej</p>"


@pytest.mark.parametrize(
    "body",
    [
        "<!-- kommentar -->",
        "<!--[if IE]><b>ie</b><![endif]-->",
        "<!--[if IE]><script>alert(1)</script><![endif]-->",
        "<!---->",
        "<!-- <b>x</b> -- -->",
    ],
)
def test_html_comments_are_dropped(body: str) -> None:
    out = sanitize_html(f"före{body}efter")
    assert out == "<p>föreefter</p>"
    assert "<!--" not in out


# --- protocols -----------------------------------------------------------------------------

DANGEROUS_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "&#0000106;avascript:alert(1)",
    "&#X6a;&#x61;vascript:alert(1)",
    "java&#x09;script:alert(1)",
    "java&#9;script:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java&#x0A;script:alert(1)",
    " javascript:alert(1)",
    "\x01\x02javascript:alert(1)",
    "&#14;javascript:alert(1)",
    "javascript&colon;alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "livescript:alert(1)",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("url", DANGEROUS_URLS)
def test_dangerous_protocols_never_survive_in_href(url: str) -> None:
    out = sanitize_html(f'<a href="{url}">länk</a>')
    assert visible_text(out) == "länk"
    for href in hrefs(out):
        assert href is None or url_is_safe(href), href
    assert "javascript:" not in out.lower()


@pytest.mark.parametrize("url", DANGEROUS_URLS)
@pytest.mark.parametrize("tag", ["blockquote", "q"])
def test_dangerous_protocols_never_survive_in_cite(tag: str, url: str) -> None:
    out = sanitize_html(f'<{tag} cite="{url}">citat</{tag}>')
    assert visible_text(out) == "citat"
    for name, attrs, _ in parse(out):
        cite = attrs.get("cite")
        if name == tag and cite is not None:
            assert url_is_safe(cite), cite


@pytest.mark.parametrize(
    "url",
    [
        "http://example.se/",
        "https://example.se/a?b=1#c",
        "HTTPS://EXAMPLE.SE",
        "mailto:redaktionen@example.se",
        "/relativ/sökväg",
        "sida.html",
        "#kommentar-12",
    ],
)
def test_safe_protocols_and_relative_urls_are_kept(url: str) -> None:
    out = sanitize_html(f'<a href="{url}">länk</a> <q cite="{url}">q</q>')
    assert hrefs(out) == [url]
    assert [attrs["cite"] for name, attrs, _ in parse(out) if name == "q"] == [url]


def test_ampersands_in_urls_are_escaped_once() -> None:
    out = sanitize_html('<a href="https://example.se/?a=1&b=2&amp;c=3">x</a>')
    assert 'href="https://example.se/?a=1&amp;b=2&amp;c=3"' in out
    assert hrefs(out) == ["https://example.se/?a=1&b=2&c=3"]


# --- rel -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '<a href="https://example.se">x</a>',
        '<a href="https://example.se" rel="follow">x</a>',
        '<a href="https://example.se" rel="nofollow">x</a>',
        '<a href="https://example.se" rel="noopener author">x</a>',
        '<a href="mailto:a@example.se">x</a>',
        "<a>x</a>",
        '<a href="javascript:alert(1)">x</a>',
        "https://example.se",
        "www.example.se",
    ],
)
def test_every_link_gets_rel_nofollow_ugc_replacing_any_rel(body: str) -> None:
    tags = parse(sanitize_html(body))
    rels = [attrs.get("rel") for name, attrs, _ in tags if name == "a"]
    assert rels == ["nofollow ugc"]


# --- paragraphs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("hej", "<p>hej</p>"),
        ("a\nb", "<p>a<br>b</p>"),
        ("a\n\nb", "<p>a</p><p>b</p>"),
        ("a\n\n\n\nb", "<p>a</p><p>b</p>"),
        ("a\n \t\n b", "<p>a</p><p>b</p>"),
        ("a\nb\n\nc\nd", "<p>a<br>b</p><p>c<br>d</p>"),
        ("\n\n  hej  \n\n\n", "<p>hej</p>"),
        ("   ", ""),
        ("", ""),
        ("a\r\nb\r\n\r\nc", "<p>a<br>b</p><p>c</p>"),
        ("a\rb", "<p>a<br>b</p>"),
        ("<b>a</b>\n<i>b</i>", "<p><b>a</b><br><i>b</i></p>"),
        ("<b>a\nb</b>", "<p><b>a<br>b</b></p>"),
        ("<b>a\n\nb</b>", "<p><b>a</b></p><p><b>b</b></p>"),
        ("  <b>a</b> <i>c</i>  ", "<p><b>a</b> <i>c</i></p>"),
        ("a <b>c </b>d", "<p>a <b>c </b>d</p>"),
        ("a\n\n<b> </b>\n\nb", "<p>a</p><p>b</p>"),
    ],
)
def test_blank_lines_make_paragraphs_and_newlines_make_br(body: str, expected: str) -> None:
    assert sanitize_html(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<blockquote>c</blockquote>\n\nd", "<blockquote><p>c</p></blockquote><p>d</p>"),
        ("a<blockquote>c</blockquote>d", "<p>a</p><blockquote><p>c</p></blockquote><p>d</p>"),
        ("<blockquote>a\n\nb</blockquote>", "<blockquote><p>a</p><p>b</p></blockquote>"),
        ("<blockquote>a\nb</blockquote>", "<blockquote><p>a<br>b</p></blockquote>"),
        ("<blockquote> </blockquote>x", "<blockquote></blockquote><p>x</p>"),
        (
            "<blockquote>a<blockquote>b</blockquote></blockquote>",
            "<blockquote><p>a</p><blockquote><p>b</p></blockquote></blockquote>",
        ),
        (
            "<b>x<blockquote>y</blockquote>z</b>",
            "<p><b>x</b></p><blockquote><p>y</p></blockquote><p><b>z</b></p>",
        ),
    ],
)
def test_blockquote_is_never_inside_a_paragraph(body: str, expected: str) -> None:
    assert sanitize_html(body) == expected


@pytest.mark.parametrize(
    "body",
    ["a\n\n\n\nb", "\n\n", "<b></b>\n\n<i> </i>", "<blockquote>\n\n</blockquote>", "<!-- x -->\n"],
)
def test_there_is_never_an_empty_paragraph(body: str) -> None:
    out = sanitize_html(body)
    assert "<p></p>" not in out
    assert "<p> </p>" not in out
    assert "<p><br>" not in out
    assert "<br></p>" not in out


# --- linkify -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "se www.example.se.",
            f'<p>se <a href="http://www.example.se" {REL}>www.example.se</a>.</p>',
        ),
        (
            "läs https://example.se/artikel?id=3, tack",
            f'<p>läs <a href="https://example.se/artikel?id=3" {REL}>'
            "https://example.se/artikel?id=3</a>, tack</p>",
        ),
        (
            "(se http://example.se/a)",
            f'<p>(se <a href="http://example.se/a" {REL}>http://example.se/a</a>)</p>',
        ),
        (
            "http://example.se/a.",
            f'<p><a href="http://example.se/a" {REL}>http://example.se/a</a>.</p>',
        ),
        (
            "https://kommentera.app/x",
            f'<p><a href="https://kommentera.app/x" {REL}>https://kommentera.app/x</a></p>',
        ),
    ],
)
def test_bare_urls_become_links(body: str, expected: str) -> None:
    assert sanitize_html(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "example.com",
        "skriv till oss på example.se",
        "redaktionen@example.se",
        "ftp://example.se/fil",
        "javascript:alert(1)",
        "awww.example.se",
        "http://localhost/",
    ],
)
def test_bare_domains_and_other_schemes_are_not_linked(body: str) -> None:
    out = sanitize_html(body)
    assert count_links(out) == 0
    assert "<a" not in out


@pytest.mark.parametrize(
    "body",
    [
        "<code>http://example.se www.example.se</code>",
        "<code>a<code>b</code> www.example.se</code>",
        "<code>rad1\n\nhttp://example.se</code>",
    ],
)
def test_urls_inside_code_are_not_linked(body: str) -> None:
    out = sanitize_html(body)
    assert count_links(out) == 0
    assert "example.se" in out


def test_urls_inside_an_existing_link_are_not_linked_again() -> None:
    out = sanitize_html('<a href="/intern">se www.example.se och https://example.se</a>')
    assert count_links(out) == 1
    assert hrefs(out) == ["/intern"]


# --- text that looks like markup -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "serialized", "visible"),
    [
        ("x < 5 och y > 10", "<p>x &lt; 5 och y &gt; 10</p>", "x < 5 och y > 10"),
        ("AT&T", "<p>AT&amp;T</p>", "AT&T"),
        ("a<5", "<p>a&lt;5</p>", "a<5"),
        ("1 <3 dig", "<p>1 &lt;3 dig</p>", "1 <3 dig"),
        ("a && b", "<p>a && b</p>", "a && b"),  # an & before no name cannot start a reference
        ("&lt;b&gt;inte fet&lt;/b&gt;", "<p>&lt;b&gt;inte fet&lt;/b&gt;</p>", "<b>inte fet</b>"),
        ("Q&amp;A", "<p>Q&amp;A</p>", "Q&A"),
    ],
)
def test_lone_angle_brackets_and_ampersands_stay_visible(
    body: str, serialized: str, visible: str
) -> None:
    out = sanitize_html(body)
    assert out == serialized
    assert visible_text(out) == visible


@pytest.mark.parametrize(
    "body",
    [
        '<a href="http://x/?a=<script>" title="<img src=x onerror=alert(1)>">t</a>',
        "<a href='https://x.se/?q=\">' title='a>b<c'>t</a>",
        '<abbr title="<script>alert(1)</script>">x</abbr>',
        '<q cite="/a<b>c">q</q>',
    ],
)
def test_no_raw_angle_bracket_in_any_attribute_value(body: str) -> None:
    tags = parse(sanitize_html(body))
    assert any(attrs for _, attrs, _ in tags)
    for _, _, raw in tags:
        assert "<" not in raw[1:-1], raw
        assert ">" not in raw[1:-1], raw


SWEDISH = "Hej! Vi måste skapa goda förutsättningar – ”sa en deltagare” ’ÅÄÖ’"


@pytest.mark.parametrize(
    "body",
    [
        SWEDISH,
        "åäö ÅÄÖ “citat” ‘enkel’ — tankstreck",
        "pris:\u00a0100\u00a0kr",
        "emoji 😀👍🏽 och ❤️",
        "«guillemets» é ü ß ø æ",
    ],
)
def test_swedish_and_other_unicode_text_survives_byte_for_byte(body: str) -> None:
    out = sanitize_html(body)
    assert out == f"<p>{body}</p>"
    assert out.encode("utf-8") == f"<p>{body}</p>".encode()
    assert "&" not in out  # no entities: literal characters, including U+00A0
    assert visible_text(out) == " ".join(body.split())


def test_typed_entities_stay_entities() -> None:
    assert sanitize_html("a&nbsp;b &copy; &#229;") == "<p>a&nbsp;b &copy; &#229;</p>"
    assert visible_text(sanitize_html("&#229;&auml;")) == "åä"


def test_quotes_in_attribute_values_are_escaped() -> None:
    # The rarer quote character delimits the value, so no value grows more than four-fold.
    out = sanitize_html("<a href='/a\"b' title='säg \"hej\" & ha&#x27;det'>x</a>")
    assert "href='/a\"b' title='säg \"hej\" & ha&#39;det'" in out
    assert parse(out)[1][1]["href"] == '/a"b'
    assert parse(out)[1][1]["title"] == 'säg "hej" & ha\'det'


def test_unicode_in_attributes_survives() -> None:
    out = sanitize_html('<abbr title="Föreningen för ”åäö”">FÅÖ</abbr>')
    assert 'title="Föreningen för ”åäö”"' in out


# --- visible_text and count_links ----------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   \n\n\t",
        "<script>x</script>",
        "<b> </b>",
        "<!-- c -->",
        "<style>p{}</style>",
        "&nbsp;",
        "\u00a0\u00a0",
        "<p></p><br><div> </div>",
        '<a href="javascript:x"></a>',
        "<img src=x onerror=alert(1)>",
    ],
)
def test_visible_text_of_empty_ish_input_is_empty(body: str) -> None:
    assert visible_text(sanitize_html(body)) == ""


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>a</p><p>b</p>", "a b"),
        ("<p>a<br>b</p>", "a b"),
        ("<p>a <b>fet</b>text</p>", "a fettext"),
        ("<blockquote><p>c</p></blockquote><p>d</p>", "c d"),
        ("<p>AT&amp;T &lt;3 &nbsp; x</p>", "AT&T <3 x"),
        ("  many\n\n  spaces\t here ", "many spaces here"),
    ],
)
def test_visible_text_decodes_entities_and_collapses_whitespace(html: str, expected: str) -> None:
    assert visible_text(html) == expected


@pytest.mark.parametrize(
    ("body", "links"),
    [
        ("ingen länk", 0),
        ("example.com", 0),
        ('<a href="https://example.se">x</a>', 1),
        ("www.example.se", 1),
        ('<a href="/a">a</a> http://example.se och www.example.se', 3),
        ('<a href="javascript:x">x</a>', 1),
        ("<code>http://example.se</code>", 0),
        ("<b>https://a.se</b>\n\nhttps://b.se", 2),
    ],
)
def test_count_links_counts_typed_and_auto_links(body: str, links: int) -> None:
    assert count_links(sanitize_html(body)) == links


def test_count_links_parses_rather_than_matching_text() -> None:
    assert count_links("<p>&lt;a href=x&gt;</p>") == 0
    assert count_links("<p><a>1</a><A HREF=x>2</A><abbr>3</abbr></p>") == 2


# --- properties ----------------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\t"),
)
SNIPPETS = st.sampled_from(
    [
        "<a href='javascript:alert(1)'>",
        '<a href="&#106;avascript:x" rel=x onclick=y>',
        "<a href=https://example.se>",
        "</a>",
        "<b>",
        "</b>",
        "<blockquote cite='data:x'>",
        "</blockquote>",
        "<code>",
        "</code>",
        "<q cite=vbscript:x>",
        "<script>",
        "</script>",
        "<style>",
        "<svg>",
        "<math>",
        "<img src=x onerror=alert(1)>",
        "<p>",
        "<br>",
        "<div style=x>",
        "<!--",
        "-->",
        "<",
        ">",
        "&",
        "&lt;",
        "\n\n",
        " www.example.se ",
        "http://example.se/?a=<b>",
        '"',
        "'",
    ]
)


def assert_output_is_within_the_allowlist(out: str) -> None:
    for tag, attrs, raw in parse(out):
        assert tag in ALLOWED_TAGS, out
        allowed = ALLOWED_ATTRIBUTES.get(tag, frozenset()) | ({"rel"} if tag == "a" else set())
        assert set(attrs) <= allowed, out
        assert "<" not in raw[1:-1], out
        assert ">" not in raw[1:-1], out
        for name in ("href", "cite"):
            if attrs.get(name) is not None:
                assert url_is_safe(attrs[name] or ""), out
        if tag == "a":
            assert attrs.get("rel") == "nofollow ugc", out


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_arbitrary_text_never_produces_anything_outside_the_allowlist(text: str) -> None:
    out = sanitize_html(text)
    assert_output_is_within_the_allowlist(out)
    assert "<p></p>" not in out


@settings(max_examples=300, deadline=None)
@given(st.lists(SNIPPETS | TEXT, max_size=20).map("".join))
def test_arbitrary_markup_never_produces_anything_outside_the_allowlist(text: str) -> None:
    out = sanitize_html(text)
    assert_output_is_within_the_allowlist(out)
    assert "<p></p>" not in out
    assert isinstance(visible_text(out), str)
    assert count_links(out) == len(hrefs(out))


@settings(max_examples=200, deadline=None)
@given(st.lists(SNIPPETS | TEXT, max_size=20).map("".join))
def test_sanitizing_the_output_again_stays_within_the_allowlist(text: str) -> None:
    assert_output_is_within_the_allowlist(sanitize_html(sanitize_html(text)))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        SNIPPETS | TEXT | st.sampled_from(["&nbsp;", "&amp;", "&#32;", "<br>"]), max_size=20
    ).map("".join)
)
def test_the_one_pass_inspection_agrees_with_parsing_the_output_again(text: str) -> None:
    body = sanitize_body(text)
    assert body.html == sanitize_html(text)
    # A trailing space changes nothing a reader sees, but makes visible_text and count_links
    # parse the HTML afresh instead of reusing what sanitize_body noted about that string.
    assert body.text == visible_text(body.html + " ")
    assert body.links == count_links(body.html + " ")


# --- hardening: what a browser would read ---------------------------------------------------

SCRIPT_URLS = [
    "javascript:123",
    "javascript:1",
    "&#106;avascript:123",
    "&#x6A;avascript:alert(1)",
    "&#x6a&#x61vascript:alert(1)",
    "java&Tab;script:alert(1)",
    "java&NewLine;script:alert(1)",
    "javascript&colon;alert(1)",
    "javascript&#58alert(1)",
    "jav\tascript:1",
    "jav\nascript:1",
    "\x01\x02\x03javascript:1",
    "&#1;javascript:1",
    " \x0c javascript:1",
    "data:text/html,1",
    "d&#x61;ta:text/html,1",
    "vbscript:1",
    "vb&Tab;script:1",
    "livescript:1",
    "&#108;ivescript:1",
]


@pytest.mark.parametrize("url", SCRIPT_URLS)
@pytest.mark.parametrize("tag", ["a href", "q cite", "blockquote cite"])
def test_script_urls_in_any_spelling_lose_the_attribute_but_keep_the_text(
    tag: str, url: str
) -> None:
    name, attribute = tag.split()
    out = sanitize_html(f'<{name} {attribute}="{url}">länk</{name}>')
    assert visible_text(out) == "länk"
    assert f"<{name}" in out
    assert f"{attribute}=" not in out, out


def test_a_reference_in_a_link_is_read_as_the_browser_reads_it() -> None:
    assert hrefs(sanitize_html('<a href="/s?a=1&copy=2&amp;b=&lt;">x</a>')) == ["/s?a=1&copy=2&b=<"]
    assert hrefs(sanitize_html('<a href="/s?&copy;">x</a>')) == ["/s?©"]


@pytest.mark.parametrize(
    ("body", "visible"),
    [
        ("&amp;lt;dubbelkodad&amp;gt;", "&lt;dubbelkodad&gt;"),
        ("&amp;amp;", "&amp;"),
        ("&amp;amp;amp;", "&amp;amp;"),
        ("&amp;#106;", "&#106;"),
        ("&amp;nbsp;", "&nbsp;"),
        ("https://example.se/?q=&amp;lt;", "https://example.se/?q=&lt;"),
    ],
)
def test_every_level_of_escaping_is_kept(body: str, visible: str) -> None:
    out = sanitize_html(body)
    assert visible_text(out) == visible
    assert visible_text(sanitize_html(out)) == visible_text(out)  # stable when re-sanitized


def test_double_escaped_text_is_stored_escaped_twice() -> None:
    assert sanitize_html("&amp;lt;dubbelkodad&amp;gt;") == "<p>&amp;lt;dubbelkodad&amp;gt;</p>"
    assert sanitize_html("&amp;amp;") == "<p>&amp;amp;</p>"


@pytest.mark.parametrize(
    "reference",
    [
        *("&#1;", "&#8;", "&#11;", "&#x7f;", "&#x7F;", "&#127;", "&#x81;", "&#x8d;", "&#12;"),
        *("&#13;", "&#xfffe;", "&#xFFFF;", "&#xfdd0;", "&#x1fffe;", "&#0000001;", "&#x0b;"),
    ],
)
def test_control_characters_written_as_references_do_not_survive(reference: str) -> None:
    out = sanitize_html(f"a{reference}b")
    assert out == "<p>ab</p>"
    assert visible_text(out) == "ab"


@pytest.mark.parametrize(
    "reference", ["&#xd800;", "&#xDFFF;", "&#0;", "&#x110000;", "&#99999999999;"]
)
def test_surrogate_null_and_out_of_range_references_become_the_replacement_character(
    reference: str,
) -> None:
    out = sanitize_html(f"a{reference}b")
    assert reference not in out
    assert visible_text(out) == "a\ufffdb"


@pytest.mark.parametrize(
    ("body", "visible"),
    [
        ("om x<y & a>b så gäller 3 < 5", "om x<y & a>b så gäller 3 < 5"),
        ("<y>", "<y>"),
        ("a <my-element>b</my-element>", "a <my-element>b</my-element>"),
        ("<b", "<b"),
        ("a</y>b", "a</y>b"),
        ("<!DOCTYPE x>", "<!DOCTYPE x>"),
        ("<![CDATA[x]]>", "<![CDATA[x]]>"),
        ("<?php echo 1; ?>", "<?php echo 1; ?>"),
        ("<3 <:-) </3", "<3 <:-) </3"),
    ],
)
def test_a_less_than_that_opens_no_real_element_stays_visible(body: str, visible: str) -> None:
    assert visible_text(sanitize_html(body)) == visible


def test_real_elements_are_still_markup_next_to_fake_ones() -> None:
    out = sanitize_html("x<y & <b>fet</b> <span>a</span>")
    assert out == "<p>x&lt;y & <b>fet</b> a</p>"
    assert visible_text(out) == "x<y & fet a"


# Plain text: any printable characters, references in every form, and `<` that opens no tag.
PLAIN = st.lists(
    st.characters(exclude_categories=("Cs", "Cc", "Co", "Cn"), exclude_characters="<")
    | st.sampled_from(["&", "&amp;", "&lt;", "&#38;", "&#x3c;", "&nbsp;", "&copy", "&amp;lt;"])
    | st.sampled_from(["< ", "<3", ">", ";", "&#", "&x", "&#1;", "&#xd800;", "&notit;"]),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(PLAIN)
def test_text_without_markup_shows_exactly_what_a_browser_shows_of_it(text: str) -> None:
    shown_by_a_browser = " ".join(parse_text(text).split())
    assert visible_text(sanitize_html(text)) == shown_by_a_browser


def parse_text(html: str) -> str:
    """What Python's HTML parser, which reads references as browsers do, finds as text."""
    found: list[str] = []
    reader = HTMLParser(convert_charrefs=True)
    reader.handle_data = found.append  # type: ignore[method-assign]
    reader.feed(html)
    reader.close()
    return "".join(found)


# --- hardening: cost ------------------------------------------------------------------------

BODY_LIMIT = 65_525


def within_bound(body: str) -> bool:
    return len(sanitize_html(body)) <= 4 * len(body) + 1024


def load_hostile_bench() -> ModuleType:
    path = Path(__file__).parents[2] / "bench" / "hostile.py"
    spec = importlib.util.spec_from_file_location("hostile", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_hostile_generator_at_the_body_limit_stays_within_four_times_plus_1_kb() -> None:
    generators = load_hostile_bench().GENERATORS
    assert len(generators) >= 40
    for name, make in generators.items():
        body = make(BODY_LIMIT)[:BODY_LIMIT]
        assert within_bound(body), name


def test_formatting_cut_by_blank_lines_is_reopened_only_within_a_budget() -> None:
    body = "<b>x\n\n" * 1500  # 9 KB: main stored ~8 MB
    out = sanitize_html(body)
    assert len(out) <= 4 * len(body) + 1024
    assert visible_text(out).count("x") == 1500
    assert out.startswith("<p><b>x</b></p><p><b><b>x</b></b></p>")


def test_inline_nesting_deeper_than_the_cap_keeps_its_text_but_not_its_tags() -> None:
    out = sanitize_html("<i><b>" * 12 + "djup" + "</b></i>" * 12)
    assert out.count("<i>") + out.count("<b>") == MAX_INLINE_DEPTH
    assert out.count("</i>") + out.count("</b>") == MAX_INLINE_DEPTH
    assert visible_text(out) == "djup"


def test_a_link_flood_past_the_output_bound_is_stored_as_plain_paragraphs() -> None:
    body = "se www.a.se\n\n" * 2000
    out = sanitize_html(body)
    assert len(out) <= 4 * len(body) + 1024
    assert count_links(out) == 0
    assert out.startswith("<p>se www.a.se</p><p>se www.a.se</p>")


def test_tags_past_the_tag_cap_are_shown_as_typed() -> None:
    out = sanitize_html("<b>x</b>" * (MAX_TAGS // 2) + "<b>y</b>")
    assert out.endswith("x</b>&lt;b&gt;y&lt;/b&gt;</p>")


HOSTILE_SNIPPETS = st.sampled_from(
    [
        *("<b>", "<i title='\"\"'>", "<a>", "<a href=x>", "www.a.se ", "\n\n", "\n", "<", "&a"),
        *("<blockquote>", "</blockquote>", '<q cite="\'">', "</b>", "<code>", "&amp;lt;", "x"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(HOSTILE_SNIPPETS | SNIPPETS | TEXT, max_size=40).map("".join))
def test_output_is_at_most_four_times_the_input_plus_1_kb(text: str) -> None:
    assert within_bound(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(HOSTILE_SNIPPETS | SNIPPETS, min_size=1, max_size=8).map("".join))
def test_output_grows_linearly_when_a_body_is_repeated(unit: str) -> None:
    # Each further copy adds at most four times its own length: nothing grows with depth,
    # with the number of paragraphs or with what came before (main grew quadratically).
    sizes = [len(sanitize_html(unit * copies)) for copies in (100, 200, 400)]
    for fewer, more, added in ((sizes[0], sizes[1], 100), (sizes[1], sizes[2], 200)):
        assert more - fewer <= 4 * added * len(unit) + 1024
