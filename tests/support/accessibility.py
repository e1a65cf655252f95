"""axe-core (from npm, tests/support/axe) run inside Chromium against a loaded page: the
WCAG 2.1 AA check every page we build must pass with no serious or critical violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe's serious and critical violations on the page as it is now, each with the rule id,
    its help text and the offending elements' selectors. Evaluated through the DevTools
    protocol, so the page's own strict CSP does not block the injected script."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make test-tools` (npm ci in tests/support/axe)")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]],
        }
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
