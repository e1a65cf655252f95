"""The demo page: one real blog post with WordPress's classic comment form posting to
Kommentera and its approved comments below, so the whole flow works right after `make run`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from flask import Blueprint, render_template, request

from service.comments.queries import public_thread_page
from service.comments.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from service.comments.threads import public_state
from service.comments.validation import parse_digits
from service.db import request_connection, request_session
from service.models import Comment
from service.web import receipts
from service.web.urls import external_url

bp = Blueprint("demo", __name__, url_prefix="/demo", template_folder="templates")

DEMO_POST_ID = "demo/haninge-och-kalix"
MAX_SHOWN = 200
_PARAGRAPH_ONLY_TAGS = {"p", "br"}  # produced by the sanitizer, never typed


@dataclass(frozen=True)
class DemoPost:
    title: str
    paragraphs: list[str]


@cache
def demo_post() -> DemoPost:
    """The bundled post: its first line is the title, blank lines separate paragraphs."""
    text = files("service.web").joinpath("demo/post.txt").read_text(encoding="utf-8")
    title, *paragraphs = [block.strip() for block in text.split("\n\n") if block.strip()]
    return DemoPost(title, paragraphs)


def allowed_tags_note() -> str:
    """WordPress's "you may use these tags" line, written from the sanitizer's allowlist."""
    tags = sorted(ALLOWED_TAGS - _PARAGRAPH_ONLY_TAGS)
    return " ".join(
        "<" + " ".join([tag, *(f'{a}=""' for a in sorted(ALLOWED_ATTRIBUTES.get(tag, ())))]) + ">"
        for tag in tags
    )


def _held_comment() -> Comment | None:
    comment_id = parse_digits(request.args.get("unapproved", ""))
    if comment_id is None:
        return None
    held = receipts.signer().held_comment(
        request_session(), comment_id, request.args.get("moderation-hash")
    )
    return held if held is not None and held.post_id == DEMO_POST_ID else None


@bp.get("/")
def page() -> str:
    connection = request_connection()
    thread = public_state(connection, DEMO_POST_ID)
    comments = (
        public_thread_page(connection, thread.id, limit=MAX_SHOWN, after=None).items
        if thread
        else []
    )
    return render_template(
        "demo.html",
        post=demo_post(),
        post_id=DEMO_POST_ID,
        comments=comments,
        held=_held_comment(),
        tags_note=allowed_tags_note(),
        redirect_to=external_url("demo.page"),
    )
