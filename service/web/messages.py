"""Every user-facing message, keyed by the machine codes the domain raises, written for
Flask-Babel's catalogs so each exists in every supported language."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString, gettext, ngettext
from flask_babel import lazy_gettext as _l

FIELD_MESSAGES: dict[str, LazyString] = {
    "required": _l("This field is required."),
    "too_long": _l("This field is too long."),
    "invalid_email": _l("Enter a valid e-mail address, like name@example.se."),
    "invalid_url": _l("Enter a web address that starts with http:// or https://."),
    "invalid_type": _l("This field has the wrong type."),
    "invalid_characters": _l("This field contains characters that are not allowed."),
    "invalid_choice": _l("This value is not one of the allowed choices."),
    "parent_not_found": _l("The comment you are replying to does not exist or is not published."),
    "empty": _l("The comment has no visible text left after removing disallowed HTML."),
    "invalid_cursor": _l("This page cursor is not valid; start again from the first page."),
    "out_of_range": _l("This number is out of range."),
    "too_deep": _l("Replies cannot be nested this deep; reply to an earlier comment instead."),
}

TITLES: dict[str, LazyString] = {
    "invalid_fields": _l("Some fields are not valid."),
    "invalid_query": _l("Some query parameters are not valid."),
    "malformed_json": _l("The request body is not valid JSON."),
    "not_an_object": _l("The request body must be a JSON object."),
    "unsupported_media_type": _l("Send the request body as application/json."),
    "too_large": _l("The request is too large."),
    "not_found": _l("Not found."),
    "method_not_allowed": _l("This method is not allowed here."),
    "unauthorized": _l("A valid moderator token is required."),
    "forbidden": _l("This needs a token with the admin role."),
    "version_conflict": _l("The comment was changed by someone else; reload it and try again."),
    "service_unavailable": _l("The service is temporarily unavailable; try again shortly."),
    "database_unreachable": _l("The database cannot be reached."),
    "schema_outdated": _l("The database schema is not at the latest migration."),
    "internal_error": _l("Something went wrong on our side; the error has been logged."),
    "bad_request": _l("The request is not valid."),
    "unsupported_form_media_type": _l(
        "Send the form as application/x-www-form-urlencoded or multipart/form-data."
    ),
    "comments_closed": _l("Comments are closed for this post."),
    "duplicate": _l("You have already posted this comment."),
    "flood": _l("You are posting comments too quickly; wait a moment and try again."),
    "rate_limited": _l("Too many requests; wait a moment and try again."),
}

# What each field is called on the comment form, to say which field an error is about.
FIELD_LABELS: dict[str, LazyString] = {
    "post_id": _l("Post"),
    "name": _l("Name"),
    "email": _l("Email"),
    "url": _l("Website"),
    "body": _l("Comment"),
    "parent_id": _l("Reply to"),
}

# Extra sentence for limits, so "too long" tells the commenter by how much.
LIMIT_MESSAGES: dict[str, LazyString] = {
    "max_bytes": _l("At most %(limit)s bytes (letters like å, ä and ö count as two)."),
    "max_chars": _l("At most %(limit)s characters."),
    "max_items": _l("At most %(limit)s values."),
}


# What a commenter can do about a form error; the title has said what happened.
FORM_ADVICE: dict[str, LazyString] = {
    "invalid_fields": _l(
        "Nothing you typed has been lost: correct the form below and send it again."
    ),
    "duplicate": _l(
        "Your comment arrived the first time, so there is no need to send it again: "
        "it is published, or waiting for moderation."
    ),
    "comments_closed": _l("This post takes no more comments, so sending it again will not help."),
    "too_large": _l(
        "Go back to the post (your browser may still have your text), shorten the comment "
        "and send it again."
    ),
    "unsupported_form_media_type": _l(
        "The form that sent this is not a working comment form; please tell the blog's owner."
    ),
    "internal_error": _l("Nothing you typed has been lost: send the form below again shortly."),
    "service_unavailable": _l(
        "Nothing you typed has been lost: send the form below again shortly."
    ),
    "bad_request": _l("Go back to the post and send your comment again."),
}
# Errors after which sending the same form again can succeed, so it is shown re-filled.
RESENDABLE = {"invalid_fields", "flood", "rate_limited", "internal_error", "service_unavailable"}


def form_advice(code: str, wait_seconds: int | None) -> str:
    if wait_seconds is not None:
        return str(
            ngettext(
                "Nothing you typed has been lost: wait %(num)d second, then send the form below "
                "again.",
                "Nothing you typed has been lost: wait %(num)d seconds, then send the form below "
                "again.",
                wait_seconds,
            )
        )
    return str(FORM_ADVICE.get(code, FORM_ADVICE["bad_request"]))


def _reply_levels(max_depth: int) -> str:
    # KOMMENTERA_MAX_DEPTH counts the top-level comment as level 1, so replies get one less.
    levels = max_depth - 1
    if levels < 1:
        return str(gettext("Replies are not accepted here."))
    return str(
        ngettext(
            "Replies can be nested at most %(num)d level deep.",
            "Replies can be nested at most %(num)d levels deep.",
            levels,
        )
    )


def field_message(code: str, params: dict[str, Any]) -> str:
    message = str(FIELD_MESSAGES.get(code, FIELD_MESSAGES["invalid_type"]))
    for key, template in LIMIT_MESSAGES.items():
        if key in params:
            message = f"{message} {gettext(str(template), limit=params[key])}"
    if "max_depth" in params:
        message = f"{message} {_reply_levels(params['max_depth'])}"
    return message


def field_label(field: str) -> str:
    return str(FIELD_LABELS.get(field, field))


def title(code: str) -> str:
    return str(TITLES.get(code, TITLES["bad_request"]))
