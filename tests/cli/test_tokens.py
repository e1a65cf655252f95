"""`kommentera tokens …` and `kommentera migrate`, through Flask's CLI runner."""

from __future__ import annotations

import hashlib

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.cli import cli
from service.models import Moderator, Role


def _invoke(app: Flask, *args: str):
    return app.test_cli_runner().invoke(cli, list(args))


def test_create_prints_only_the_token_and_stores_only_its_hash(
    app: Flask, session: Session
) -> None:
    result = _invoke(app, "tokens", "create", "anna", "--role", "admin")

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("kmt_")
    assert result.stdout == token + "\n"
    stored = session.scalars(select(Moderator)).one()
    assert (stored.name, stored.role) == ("anna", Role.ADMIN)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash


def test_the_created_token_opens_the_moderation_api(app: Flask) -> None:
    token = _invoke(app, "tokens", "create", "bertil").stdout.strip()

    response = app.test_client().get(
        "/api/v1/moderation/comments", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


def test_list_shows_names_roles_and_state_but_never_tokens(app: Flask) -> None:
    token = _invoke(app, "tokens", "create", "cecilia").stdout.strip()
    _invoke(app, "tokens", "create", "david", "--role", "admin")
    _invoke(app, "tokens", "revoke", "cecilia")

    result = _invoke(app, "tokens", "list")

    lines = [line.split("\t")[:3] for line in result.stdout.splitlines()]
    assert lines == [["cecilia", "moderator", "revoked"], ["david", "admin", "active"]]
    assert token not in result.output


def test_revoked_tokens_stop_working_and_names_are_unique(app: Flask) -> None:
    token = _invoke(app, "tokens", "create", "erik").stdout.strip()

    duplicate = _invoke(app, "tokens", "create", "erik")
    revoke = _invoke(app, "tokens", "revoke", "erik")
    again = _invoke(app, "tokens", "revoke", "erik")

    assert duplicate.exit_code != 0
    assert "exists already" in duplicate.output
    assert revoke.exit_code == 0
    assert again.exit_code != 0
    response = app.test_client().get(
        "/api/v1/moderation/comments", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


def test_an_unknown_role_is_refused(app: Flask, session: Session) -> None:
    result = _invoke(app, "tokens", "create", "frida", "--role", "root")

    assert result.exit_code == 2
    assert session.scalars(select(Moderator)).all() == []


def test_rotate_gives_the_same_name_and_role_a_new_token_and_the_old_one_stops(
    app: Flask, session: Session
) -> None:
    old = _invoke(app, "tokens", "create", "gustav", "--role", "admin").stdout.strip()

    rotated = _invoke(app, "tokens", "rotate", "gustav")

    assert rotated.exit_code == 0, rotated.output
    new = rotated.stdout.strip()
    assert new.startswith("kmt_")
    assert new != old
    client = app.test_client()
    for token, status in ((old, 401), (new, 200)):
        response = client.get(
            "/api/v1/moderation/comments", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == status
    stored = session.scalars(select(Moderator)).one()
    assert (stored.name, stored.role, stored.revoked_at) == ("gustav", Role.ADMIN, None)


def test_a_revoked_name_is_brought_back_by_rotate_which_create_points_to(app: Flask) -> None:
    _invoke(app, "tokens", "create", "bertil")
    _invoke(app, "tokens", "revoke", "bertil")

    again = _invoke(app, "tokens", "create", "bertil")
    rotated = _invoke(app, "tokens", "rotate", "bertil")

    assert again.exit_code == 1
    assert "(revoked): `kommentera tokens rotate bertil` gives it a new token" in again.output
    assert rotated.exit_code == 0
    listed = _invoke(app, "tokens", "list").stdout
    assert listed.split("\t")[:3] == ["bertil", "moderator", "active"]


def test_rotating_an_unknown_name_points_to_create(app: Flask) -> None:
    result = _invoke(app, "tokens", "rotate", "nobody")

    assert result.exit_code == 1
    assert "no token named 'nobody': `kommentera tokens create nobody`" in result.output
