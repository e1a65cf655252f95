"""`kommentera doctor` against real things: a SQLite file, a local SMTP server that wants a
login, a local webhook receiver, and ports where nothing listens."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.notifications.receivers import webhook_receiver
from tests.support.server import free_port

KOMMENTERA = str(Path(sys.executable).parent / "kommentera")


def _doctor(cwd: Path, **env: str) -> tuple[int, dict[str, str]]:
    """Exit code, and each topic's line (verdict first)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KOMMENTERA_")}
    result = subprocess.run(
        [KOMMENTERA, "doctor"],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    findings = {}
    for line in result.stdout.splitlines():
        verdict, rest = line.split(maxsplit=1)
        topic, detail = rest.split(": ", 1)
        findings[topic] = f"{verdict} {detail}"
    return result.returncode, findings


@pytest.fixture
def migrated(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'kommentera.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOMMENTERA_")}
    subprocess.run([KOMMENTERA, "migrate"], env={**env, "KOMMENTERA_DATABASE_URL": url}, check=True)
    return {"KOMMENTERA_DATABASE_URL": url}


class _Accepting:
    async def handle_DATA(self, *_args: Any) -> str:
        return "250 OK"


def _only_anna(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any):
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"anna", b"hemligt")
    return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_with_login() -> Iterator[int]:
    port = free_port()
    controller = Controller(
        _Accepting(),
        hostname="127.0.0.1",
        port=port,
        authenticator=_only_anna,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_a_fresh_folder_is_told_to_migrate(tmp_path: Path) -> None:
    code, findings = _doctor(tmp_path)

    assert code == 1
    assert findings["configuration"].startswith("OK")
    assert findings["database"].startswith("FAIL no database at")
    assert "run `kommentera migrate` first" in findings["database"]
    assert list(tmp_path.iterdir()) == []


def test_a_migrated_set_up_without_notifications_is_healthy(
    tmp_path: Path, migrated: dict[str, str]
) -> None:
    (tmp_path / "kommentera.db").chmod(0o600)

    code, findings = _doctor(tmp_path, **migrated)

    assert code == 0
    assert findings["database"].startswith("OK")
    assert "(the latest, " in findings["database"]
    assert findings["database file"].startswith("OK")
    assert findings["proxies"].startswith("OK KOMMENTERA_TRUSTED_PROXIES=0")
    assert findings["e-mail"] == "OK off (KOMMENTERA_SMTP_HOST is empty)"
    assert findings["webhook"] == "OK off (KOMMENTERA_WEBHOOK_URL is empty)"


def test_a_database_file_others_can_read_is_a_warning(
    tmp_path: Path, migrated: dict[str, str]
) -> None:
    (tmp_path / "kommentera.db").chmod(0o644)

    code, findings = _doctor(tmp_path, **migrated)

    assert code == 0
    assert findings["database file"].startswith("WARN")
    assert f"chmod o-rwx {tmp_path / 'kommentera.db'}" in findings["database file"]


def test_a_bad_setting_is_the_one_finding(tmp_path: Path) -> None:
    code, findings = _doctor(tmp_path, KOMMENTERA_WEBHOOK_URL="http://127.0.0.1:9/hook")

    assert code == 1
    assert list(findings) == ["configuration"]
    assert "KOMMENTERA_WEBHOOK_SECRET is empty" in findings["configuration"]


def test_smtp_login_is_tried_for_real(tmp_path: Path, migrated: dict[str, str]) -> None:
    with smtp_with_login() as port:
        mail = {
            **migrated,
            "KOMMENTERA_SMTP_HOST": "127.0.0.1",
            "KOMMENTERA_SMTP_PORT": str(port),
            "KOMMENTERA_SMTP_STARTTLS": "false",
            "KOMMENTERA_SMTP_USERNAME": "anna",
            "KOMMENTERA_MODERATOR_EMAILS": "anna@exempel.se",
        }
        good_code, good = _doctor(tmp_path, **mail, KOMMENTERA_SMTP_PASSWORD="hemligt")
        bad_code, bad = _doctor(tmp_path, **mail, KOMMENTERA_SMTP_PASSWORD="fel")
    closed_code, closed = _doctor(tmp_path, **mail, KOMMENTERA_SMTP_PASSWORD="hemligt")

    assert good_code == 0
    assert good["e-mail"] == f"OK 127.0.0.1:{port} answers, logged in as 'anna'"
    assert bad_code == 1
    assert bad["e-mail"].startswith(f"FAIL 127.0.0.1:{port} refused the login of 'anna'")
    assert closed_code == 1
    assert closed["e-mail"].startswith(f"FAIL cannot talk to 127.0.0.1:{port}")


def test_the_webhook_is_reached_without_sending_an_event(
    tmp_path: Path, migrated: dict[str, str]
) -> None:
    with webhook_receiver("s3cret") as receiver:
        hook = {**migrated, "KOMMENTERA_WEBHOOK_URL": receiver.url}
        code, findings = _doctor(tmp_path, **hook, KOMMENTERA_WEBHOOK_SECRET="s3cret")
    nothing_listens = f"http://127.0.0.1:{free_port()}/hook"
    gone_code, gone = _doctor(
        tmp_path,
        **migrated,
        KOMMENTERA_WEBHOOK_URL=nothing_listens,
        KOMMENTERA_WEBHOOK_SECRET="s3cret",
    )

    assert code == 0
    assert findings["webhook"].startswith(f"OK {receiver.url} answers (HTTP ")
    assert receiver.calls == 0  # a check, not an event
    assert gone_code == 1
    assert gone["webhook"].startswith(f"FAIL {nothing_listens} is not reachable")
