"""The front page: says what this service is and where to go next (the demo, the API
contract, the health check), so `GET /` is not a bare 404 after `make run`."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("home", __name__, template_folder="templates")


@bp.get("/")
def page() -> str:
    return render_template("home.html")
