"""Validate a submitted comment at the edge into an immutable CommentDraft, collecting
every field error at once. Limits follow WordPress and are counted in UTF-8 bytes."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from service.comments.sanitize import sanitize_body
from service.errors import FieldError, InvalidFieldsError

MAX_POST_ID_CHARS = 200
MAX_BYTES = {"name": 245, "email": 100, "url": 200, "body": 65_525}
MAX_USER_AGENT_CHARS = 254
MAX_LOCAL_PART_BYTES = 64  # RFC 5321 4.5.3.1.1, in octets; email-validator counts characters
# A website typed without a scheme gets http://, as WordPress's esc_url does; only when what
# was typed is a bare domain name (Unicode letters allowed), optionally with a path.
_SCHEMELESS_WEBSITE = re.compile(r"(?:[\w-]+\.)+[\w-]+(?:[/?#]\S*)?")
MAX_ID = 2**31 - 1  # ids are PostgreSQL integers; a larger one cannot name a comment
# A number with more digits than this is out of range for every integer Kommentera reads
# (ids, limits, versions, a numeric post_id), so it is never converted: CPython's int()
# refuses more than 4,300 digits (ValueError, a 500) and is quadratic below that.
MAX_INTEGER_DIGITS = MAX_POST_ID_CHARS
TOO_LARGE: int = 10**MAX_INTEGER_DIGITS
# Control characters (Unicode category Cc, fixed at U+0000-001F and U+007F-009F) and lone
# surrogates (Cs), which JSON can carry but no database can store as UTF-8. Free text keeps
# tab and newline; post ids allow neither, nor the line and paragraph separators U+2028 and
# U+2029 (str.splitlines() and e-mail headers break lines there too). Regexes, not a
# per-character loop: they run on every field of every submission.
_POST_ID_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_REMOVED_FROM_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# \s is Unicode whitespace (str.isspace()): every line break str.splitlines() knows,
# U+2028/2029, tab and the space separators such as U+00A0.
_LINE_BREAKS_AND_CONTROLS = re.compile("[\\s\x00-\x1f\x7f-\x9f]+")

ParentLookup = Callable[[str, int], bool]


@dataclass(frozen=True)
class CommentDraft:
    """A submission that passed validation; body_html is already sanitized."""

    post_id: str
    name: str
    email: str
    url: str | None
    body_source: str
    body_html: str
    parent_id: int | None


def read_integer(literal: str) -> int:
    """The integer a decimal literal (JSON's, or ASCII digits) writes; one longer than
    MAX_INTEGER_DIGITS reads as ±TOO_LARGE, out of range wherever it is used."""
    negative = literal.startswith("-")
    digits = literal.removeprefix("-").lstrip("0")
    if len(digits) > MAX_INTEGER_DIGITS:
        return -TOO_LARGE if negative else TOO_LARGE
    return -int(digits or "0") if negative else int(digits or "0")


def parse_digits(text: str) -> int | None:
    """The number written in ASCII digits only (a query parameter, a form field), or None.
    str.isdigit alone is not enough: it accepts digits such as "²" that int() refuses."""
    if not (text.isascii() and text.isdigit()):
        return None
    return read_integer(text)


def clean_text(value: str) -> str:
    """Normalize newlines, drop control characters except tab/newline, and trim."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _REMOVED_FROM_TEXT.sub("", value).strip()


def single_line(value: str) -> str:
    """Text that must stay on one line (a name): every run of whitespace or control
    characters becomes one space, as WordPress does, so a name cannot start a line of its
    own wherever it is shown."""
    return clean_text(_LINE_BREAKS_AND_CONTROLS.sub(" ", value))


def clean_user_agent(value: str | None) -> str | None:
    if not value:
        return None
    return clean_text(value).replace("\n", " ").replace("\t", " ")[:MAX_USER_AGENT_CHARS] or None


class _Checker:
    """Collects errors while reading fields, so the caller sees all of them at once."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.errors: list[FieldError] = []

    def fail(self, field: str, code: str, **params: Any) -> None:
        self.errors.append(FieldError(field, code, params))

    def text(self, field: str, *, required: bool, one_line: bool = False) -> str | None:
        value = self.raw.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(field, "required")
            return None
        if not isinstance(value, str):
            self.fail(field, "invalid_type", expected="string")
            return None
        value = single_line(value) if one_line else clean_text(value)
        if not value:
            if required:
                self.fail(field, "required")
            return None
        limit = MAX_BYTES[field]
        if len(value.encode("utf-8")) > limit:
            self.fail(field, "too_long", max_bytes=limit)
            return None
        return value

    def post_id(self) -> str | None:
        value = self.raw.get("post_id")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None or (isinstance(value, str) and not value.strip()):
            self.fail("post_id", "required")
            return None
        if not isinstance(value, str):
            self.fail("post_id", "invalid_type", expected="string")
            return None
        return self.check_post_id(value)

    def check_post_id(self, value: str) -> str | None:
        if len(value) > MAX_POST_ID_CHARS:
            self.fail("post_id", "too_long", max_chars=MAX_POST_ID_CHARS)
            return None
        if _POST_ID_REFUSED.search(value):
            self.fail("post_id", "invalid_characters")
            return None
        return value

    def email(self) -> str | None:
        value = self.text("email", required=True)
        if value is None:
            return None
        try:
            email = validate_email(value, check_deliverability=False)
        except EmailNotValidError:
            self.fail("email", "invalid_email")
            return None
        if len(email.local_part.encode("utf-8")) > MAX_LOCAL_PART_BYTES:
            self.fail("email", "invalid_email")
            return None
        return email.normalized

    def url(self) -> str | None:
        value = self.text("url", required=False)
        if value is None:
            return None
        if _SCHEMELESS_WEBSITE.fullmatch(value):
            value = "http://" + value
            if len(value.encode("utf-8")) > MAX_BYTES["url"]:
                self.fail("url", "too_long", max_bytes=MAX_BYTES["url"])
                return None
        try:
            parts = urlsplit(value)
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme.lower() not in ("http", "https")
            or not parts.hostname
            or any(char.isspace() for char in value)
        ):
            self.fail("url", "invalid_url")
            return None
        return value

    def body(self) -> tuple[str, str] | None:
        source = self.text("body", required=True)
        if source is None:
            return None
        return self.sanitized_body(source)

    def sanitized_body(self, source: str) -> tuple[str, str] | None:
        body = sanitize_body(source)
        if not body.text:
            self.fail("body", "empty")
            return None
        return source, body.html

    def parent_id(self, post_id: str | None, parent_exists: ParentLookup) -> int | None:
        value = self.raw.get("parent_id")
        if value is None or value == "" or value == 0:
            return None
        if isinstance(value, str) and (number := parse_digits(value)) is not None:
            value = number  # HTML forms send numbers as text
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("parent_id", "invalid_type", expected="integer")
            return None
        if not 1 <= value <= MAX_ID or (post_id is not None and not parent_exists(post_id, value)):
            self.fail("parent_id", "parent_not_found")
            return None
        return value


@dataclass(frozen=True)
class CheckedComment:
    """A submission whose fields passed every check but the one that needs the sanitizer."""

    post_id: str
    name: str
    email: str
    url: str | None
    body_source: str
    parent_id: int | None

    def sanitized(self) -> CommentDraft:
        """The draft with its body sanitized; InvalidFieldsError if nothing visible is left."""
        check = _Checker({})
        body = check.sanitized_body(self.body_source)
        if check.errors or body is None:
            raise InvalidFieldsError(check.errors)
        return CommentDraft(
            post_id=self.post_id,
            name=self.name,
            email=self.email,
            url=self.url,
            body_source=body[0],
            body_html=body[1],
            parent_id=self.parent_id,
        )


def check_comment(raw: Mapping[str, Any], parent_exists: ParentLookup) -> CheckedComment:
    """Every check on a decoded JSON object or form that is cheap (sizes, formats, the
    parent), so that the caller can refuse a flood before sanitizing. Raises
    InvalidFieldsError; when it does, the body's own errors are in it too.

    parent_exists(post_id, parent_id) answers whether the parent may be replied to; the
    caller owns that database question so this module stays pure.
    """
    check = _Checker(raw)
    post_id = check.post_id()
    name = check.text("name", required=True, one_line=True)
    email = check.email()
    url = check.url()
    source = check.text("body", required=True)
    parent_id = check.parent_id(post_id, parent_exists)
    if check.errors or post_id is None or name is None or email is None or source is None:
        if source is not None:
            check.sanitized_body(source)  # all field errors at once, "empty" included
        raise InvalidFieldsError(check.errors)
    return CheckedComment(post_id, name, email, url, source, parent_id)


def validate_comment(raw: Mapping[str, Any], parent_exists: ParentLookup) -> CommentDraft:
    """Turn a decoded JSON object or form into a CommentDraft or raise InvalidFieldsError
    with every field error (see check_comment)."""
    return check_comment(raw, parent_exists).sanitized()


def validate_post_id(value: str | None) -> str:
    """Check a post_id given in a query string."""
    check = _Checker({"post_id": value})
    post_id = check.post_id()
    if check.errors or post_id is None:
        raise InvalidFieldsError(check.errors)
    return post_id


def validate_body(value: Any) -> tuple[str, str]:
    """Check a moderator's edited body; returns (source, sanitized html)."""
    check = _Checker({"body": value})
    body = check.body()
    if check.errors or body is None:
        raise InvalidFieldsError(check.errors)
    return body
