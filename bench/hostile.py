"""`python bench/hostile.py`: what the worst bodies cost the sanitizer. Each generator builds
an adversarial body (nesting, reopening, reference floods, stray `<`, link floods, ...) at
1 KB, 16 KB and the 64 KB body limit; the table gives the CPU time of sanitizing it plus
inspecting the result afresh (visible text and links, as the rules do on stored HTML) and
the output/input ratio. Targets: under 100 ms at 64 KB, output at most 4x input + 1 KB.
Prints a Markdown table for docs/performance.md; --json prints the rows instead."""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Callable, Iterator

from service.comments import sanitize
from service.comments.validation import MAX_BYTES

SIZES = {"1 KB": 1024, "16 KB": 16 * 1024, "64 KB": MAX_BYTES["body"]}
INLINE = ["b", "i", "em", "strong", "code", "q", "cite", "abbr", "acronym", "del", "strike"]
CPU_TARGET_S = 0.100


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _numbered(make: Callable[[int], str], size: int) -> str:
    parts, length = [], 0
    for i in itertools.count():
        part = make(i)
        if length + len(part) > size:
            break
        parts.append(part)
        length += len(part)
    return "".join(parts)


def _nested_then(opening: str, tail: str, size: int) -> str:
    return _repeat(opening, size - len(tail)) + tail


GENERATORS: dict[str, Callable[[int], str]] = {
    # nesting
    "nested <b>": lambda n: _nested_then("<b>", "x", n),
    "nested mixed inline": lambda n: _nested_then("".join(f"<{t}>" for t in INLINE), "x", n),
    "nested <a> with title": lambda n: _repeat("<a title=t>x", n),
    "nested distinct <b title>": lambda n: _numbered(lambda i: f"<b title={i}>", n),
    "nested <blockquote>": lambda n: _nested_then("<blockquote>", "x", n),
    "nested <code>": lambda n: _nested_then("<code>", "x", n),
    "inline around blockquotes": lambda n: "<b>" * 8 + _repeat("<blockquote>x</blockquote>x", n),
    "misnested </b> (adoption agency)": lambda n: _repeat("<b><blockquote><i>x</b>", n),
    # paragraphs
    "blank-line reopen <b>": lambda n: _repeat("<b>x\n\n", n),
    "blank-line reopen mixed": lambda n: "".join(f"<{t}>" for t in INLINE) + _repeat("x\n\n", n),
    "reopen long title": lambda n: "<abbr title='" + "t" * 2000 + "'>" + _repeat("x\n\n", n),
    "newlines": lambda n: _repeat("\n", n),
    "x newline": lambda n: _repeat("x\n", n),
    "< blank line": lambda n: _repeat("<\n\n", n),
    # attributes
    "many attributes": lambda n: "<a " + _numbered(lambda i: f"a{i}=x ", n - 5) + ">x",
    "quotes in title": lambda n: "<abbr title='" + _repeat('"', n - 20) + "'>x</abbr>",
    "mixed quotes in title": lambda n: "<abbr title=" + _repeat("\"'", n - 20) + ">x</abbr>",
    "unclosed attribute": lambda n: "<a href='" + _repeat("x", n),
    "reference flood in href": lambda n: '<a href="' + _repeat("&#106;", n - 20) + '">x</a>',
    "digit run in href": lambda n: '<a href="&#' + _repeat("1", n - 20) + '">x</a>',
    "script URLs": lambda n: _repeat('<a href="&#106;avascript&colon;x">y</a>', n),
    # references and markup characters
    "named references": lambda n: _repeat("&nbsp;", n),
    "legacy references no ;": lambda n: _repeat("&notit", n),
    "numeric references": lambda n: _repeat("&#x1F600;", n),
    "control references": lambda n: _repeat("&#1;", n),
    "long digit run": lambda n: "&#" + _repeat("1", n - 2),
    "& flood": lambda n: _repeat("&", n),
    "&a flood": lambda n: _repeat("&a", n),
    "double-escaped": lambda n: _repeat("&amp;lt;", n),
    "< flood": lambda n: _repeat("<", n),
    "< newline": lambda n: _repeat("<\n", n),
    "> flood": lambda n: _repeat(">", n),
    "fake tags <y & a>": lambda n: _repeat("<y & a>", n),
    "unclosed tags": lambda n: _repeat("<b", n),
    "end tags": lambda n: _repeat("</b>", n),
    # comments and CDATA
    "comment flood": lambda n: _repeat("<!--x-->", n),
    "unclosed comment": lambda n: "<!--" + _repeat("x", n - 4),
    "CDATA flood": lambda n: _repeat("<![CDATA[x]]>", n),
    "conditional comments": lambda n: _repeat("<!--[if IE]><b>x</b><![endif]-->", n),
    # dropped content
    "script with tags": lambda n: "<script>" + _repeat("<b>", n - 8),
    "nested svg": lambda n: _nested_then("<svg>", "x", n),
    "select soup": lambda n: _repeat("<select><option>x", n),
    # links
    "long URL": lambda n: "https://a.se/" + _repeat("a", n - 13),
    "long URL with &a": lambda n: "https://a.se/?" + _repeat("&a", n - 14),
    "bare URL flood": lambda n: _repeat("www.a.se ", n),
    "short www flood": lambda n: _repeat("www.se ", n),
    "typed link flood": lambda n: _repeat("<a href=x>y</a>", n),
    "unclosed <a> flood": lambda n: _repeat("<a>y", n),
    "URL in code": lambda n: "<code>" + _repeat("http://a.se ", n - 6),
}


def measure(body: str) -> tuple[float, float, int]:
    """CPU seconds to sanitize (inspection included) and to inspect the HTML afresh, as
    the rules do on stored HTML; and the length of the HTML."""
    start = time.process_time()
    html = sanitize.sanitize_body(body).html
    middle = time.process_time()
    sanitize.visible_text(html + " ")  # the trailing space defeats the inspection cache
    sanitize.count_links(html + "  ")
    return middle - start, time.process_time() - middle, len(html)


def rows() -> Iterator[dict[str, object]]:
    for name, make in GENERATORS.items():
        for label, size in SIZES.items():
            body = make(size)[:size]  # some add a prefix; bodies are ASCII
            assert len(body.encode("utf-8")) <= MAX_BYTES["body"], name
            runs = [measure(body) for _ in range(3)]
            cpu, inspect = min(run[0] for run in runs), min(run[1] for run in runs)
            out = runs[0][2]
            yield {
                "generator": name,
                "size": label,
                "input": len(body),
                "ms": round((cpu + inspect) * 1000, 1),
                "sanitize_ms": round(cpu * 1000, 1),
                "ratio": round(out / max(len(body), 1), 2),
                "within": out <= 4 * len(body) + 1024 and cpu + inspect < CPU_TARGET_S,
            }


def markdown(table: list[dict[str, object]]) -> str:
    lines = [
        "| generator | ms 1 KB | ms 16 KB | ms 64 KB (sanitize + inspect) | out/in 64 KB |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, group in itertools.groupby(table, key=lambda row: row["generator"]):
        small, medium, large = group
        mark = "" if large["within"] else " **over target**"
        lines.append(
            f"| {name}{mark} | {small['ms']} | {medium['ms']} | {large['ms']}"
            f" ({large['sanitize_ms']} + {round(float(large['ms']) - float(large['sanitize_ms']), 1)})"  # noqa: E501
            f" | {large['ratio']} |"
        )
    return "\n".join(lines)


def main() -> None:
    table = list(rows())
    if "--json" in sys.argv:
        print(json.dumps(table, indent=1))
        return
    print(markdown(table))
    worst = max(table, key=lambda row: float(row["ms"]))  # type: ignore[arg-type]
    print(f"\nslowest: {worst['generator']} at {worst['size']}, {worst['ms']} ms")


if __name__ == "__main__":
    main()
