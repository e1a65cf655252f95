"""Summaries of benchmark runs: medians with min–max, the target ratios, the machine, and
the Markdown table that docs/performance.md quotes."""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path

# (label, scenario, numerator target, denominator target, required ratio) at c=8.
TARGETS = [
    ("submissions ≥ 8× Isso", "submit", "kommentera", "isso", 8.0),
    ("submissions ≥ 40 % of the JSON-POST ceiling", "submit", "kommentera", "ceiling", 0.4),
    ("200-comment thread ≥ 40× Isso (uncached)", "read200", "kommentera", "isso", 40.0),
    (
        "304 on an unchanged thread ≥ 70 % of the GET ceiling",
        "read304",
        "kommentera",
        "ceiling",
        0.7,
    ),
    ("counts for 20 posts ≥ Isso", "count20", "kommentera", "isso", 1.0),
    ("PostgreSQL submissions ≥ 4× Isso-on-SQLite", "submit", "kommentera-postgresql", "isso", 4.0),
]


def machine() -> dict[str, object]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(memory_kb / 1024**2, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def summarize(runs: list[dict]) -> dict[str, float]:
    rps = [r["rps"] for r in runs]
    return {
        "rps": statistics.median(rps),
        "rps_min": min(rps),
        "rps_max": max(rps),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "cpu_ms_per_request": statistics.median(r["cpu_ms_per_request"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }


def ratios(cells: dict[str, dict[str, dict]], concurrency: str = "8") -> list[dict]:
    found = []
    for label, scenario, top, bottom, required in TARGETS:
        a = cells.get(f"{scenario}/{top}", {}).get(concurrency)
        b = cells.get(f"{scenario}/{bottom}", {}).get(concurrency)
        if not a or not b:
            continue
        ratio = a["rps"] / b["rps"]
        # CPU per request is the steadiest figure on a shared machine: the same ratio in CPU.
        cpu_ratio = (
            b["cpu_ms_per_request"] / a["cpu_ms_per_request"] if a["cpu_ms_per_request"] else 0
        )
        found.append(
            {
                "target": label,
                "ratio": ratio,
                "cpu_ratio": cpu_ratio,
                "required": required,
                "met": ratio >= required,
            }
        )
    return found


def markdown(summary: dict) -> str:
    m = summary["machine"]
    lines = [
        f"Measured {summary['when']} on {m['nproc']} × {m['cpu']}, {m['memory_gb']} GB RAM, "
        f"Python {m['python']}; {summary['rounds']} rounds of {summary['seconds_per_run']} s per "
        "run, targets interleaved; medians (min–max).",
        "",
        "| scenario | target | c | req/s (min–max) | p50 ms | p99 ms | CPU ms/req | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, by_c in summary["cells"].items():
        scenario, target = key.split("/")
        for c, s in by_c.items():
            lines.append(
                f"| {scenario} | {target} | {c} | {s['rps']:.0f} "
                f"({s['rps_min']:.0f}–{s['rps_max']:.0f})"
                f" | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} | {s['cpu_ms_per_request']:.2f}"
                f" | {s['errors']} |"
            )
    lines += ["", "| target (c=8) | ratio (req/s) | ratio (CPU/req) | met |", "|---|---:|---:|---|"]
    for r in summary["ratios"]:
        lines.append(
            f"| {r['target']} | {r['ratio']:.2f} | {r['cpu_ratio']:.2f} | "
            f"{'yes' if r['met'] else 'no'} |"
        )
    memory = summary["memory"]
    peaks = ", ".join(f"{mb:.1f}" for mb in memory["peak_rss_mb_per_worker"])
    lines += ["", f"Peak RSS per worker after {memory['submissions']} submissions: {peaks} MB"]
    return "\n".join(lines) + "\n"
