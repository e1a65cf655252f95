"""A deterministic corpus of realistic blog comments for the benchmarks: Swedish prose from
the shared seed texts, log-normal lengths, about 30 % with allowed HTML, a few hostile ones,
and IDN and plus-addressed e-mail addresses. The same seed always gives the same corpus."""

from __future__ import annotations

import math
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED_DIRS = (REPO.parent / "shared" / "seeds", REPO / "bench" / "seeds")
# Used when no seed texts are found, so the bench still runs (with less varied prose).
FALLBACK_TEXT = (
    "Tack för ett bra inlägg om den sociala barn- och ungdomsvården. "
    "Vi har liknande erfarenheter i vår kommun, där samverkan mellan förvaltningarna är svår. "
    "Det är viktigt att barnens röst hörs i varje utredning, och att handläggarna får tid. "
    "Jag undrar hur ni har löst frågan om uppföljning efter placering? "
    "Håller med om det mesta, men jag tror att ekonomin styr mer än ni skriver. "
    "Spännande läsning, ser fram emot nästa del!"
)
FIRST_NAMES = ("Åsa", "Örjan", "Märta", "Lars", "Karin", "Björn", "Ingrid", "Sven", "Eva", "Jönsi")
LAST_NAMES = ("Öberg", "Åström", "Lindqvist", "Nilsson", "Sjöberg", "Källström", "Berg", "Ek")
EMAIL_DOMAINS = ("exempel.se", "bücher.de", "exempel.nu", "räksmörgås.se", "example.org")
HOSTILE = (
    "<script>alert(1)</script>Bra skrivet!",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">klicka här</a>',
    "<svg><script>alert(1)</script></svg>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<a href="jav&#x09;ascript:alert(1)">länk</a>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<div style="width: expression(alert(1))">gammal IE</div>',
)
_SENTENCE = re.compile(r"[^.!?\n]{20,400}[.!?]")


@dataclass(frozen=True)
class Comment:
    name: str
    email: str
    body: str
    url: str | None = None

    def payload(self, post_id: str) -> dict[str, str]:
        data = {"post_id": post_id, **asdict(self)}
        return {key: value for key, value in data.items() if value is not None}


def sentences() -> list[str]:
    """Every sentence of the seed texts (or the fallback text), in file order."""
    texts = [
        path.read_text(encoding="utf-8", errors="replace")
        for directory in SEED_DIRS
        if directory.is_dir()
        for path in sorted(directory.glob("*.txt"))
    ]
    found = [" ".join(s.split()) for text in texts for s in _SENTENCE.findall(text)]
    return found or _SENTENCE.findall(FALLBACK_TEXT)


def _email(rng: random.Random, first: str, last: str) -> str:
    kind = rng.random()
    if kind < 0.1:
        return f"användare{rng.randrange(1000)}@exempel.se"
    local = f"{first}.{last}".lower() if kind < 0.7 else f"{first.lower()}+blogg{rng.randrange(99)}"
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def _with_html(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(words))
        tag = rng.choice(("b", "em", "code"))
        words[i] = f"<{tag}>{words[i]}</{tag}>"
    html = " ".join(words)
    choice = rng.random()
    if choice < 0.4:
        html += (
            f' Se <a href="https://exempel.se/artikel/{rng.randrange(500)}">den här artikeln</a>.'
        )
    elif choice < 0.7:
        html = f"<blockquote>{html[: len(html) // 3]}</blockquote>\n\n{html}"
    return html


def _length(rng: random.Random) -> int:
    # Log-normal around 250 characters: most comments 100–600, a long tail of essays.
    return max(30, min(4000, int(rng.lognormvariate(math.log(250), 0.6))))


def generate(count: int, seed: int = 6) -> list[Comment]:
    rng = random.Random(seed)
    pool = sentences()
    corpus = []
    for _ in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        target = _length(rng)
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < target:
            parts.append(rng.choice(pool))
        body = " ".join(parts)[: target + 200]
        roll = rng.random()
        if roll < 0.02:
            body = f"{rng.choice(HOSTILE)} {body[:120]}"
        elif roll < 0.32:
            body = _with_html(rng, body)
        url = f"https://{last.lower()}.exempel.se/" if rng.random() < 0.2 else None
        corpus.append(Comment(f"{first} {last}", _email(rng, first, last), body, url))
    return corpus


if __name__ == "__main__":
    sample = generate(1000)
    lengths = sorted(len(c.body) for c in sample)
    print(
        f"{len(sentences())} sentences; body length p10/p50/p90:",
        lengths[100],
        lengths[500],
        lengths[900],
    )
    print("with HTML:", sum("<" in c.body for c in sample), "of", len(sample))
    print(sample[0])
