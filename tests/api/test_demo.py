"""The demo page: a real post, the classic form, approved comments and the author's held one."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask.testing import FlaskClient

from service.web.demo import DEMO_POST_ID
from tests.builders import submit, submit_approved


def test_approved_comments_show_their_allowed_formatting_and_escaped_names(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    submit_approved(
        client,
        moderator_headers,
        post_id=DEMO_POST_ID,
        name="<b>Eva</b> & Co",
        url="https://eva.exempel.se/?a=1&b=2",
        body="Det här är <strong>viktigt</strong><script>alert(1)</script>",
    )
    submit(client, post_id=DEMO_POST_ID, name="Väntande Vera")

    page = client.get("/demo/").get_data(as_text=True)

    assert "Det här är <strong>viktigt</strong>" in page
    assert "<script>alert(1)" not in page
    assert '<a href="https://eva.exempel.se/?a=1&amp;b=2" rel="nofollow ugc external">' in page
    assert "&lt;b&gt;Eva&lt;/b&gt; &amp; Co" in page
    assert "Väntande Vera" not in page
    assert "1 comment" in page


def test_the_author_sees_their_held_comment_through_the_receipt(client: FlaskClient) -> None:
    response = client.post(
        "/comments/form",
        data={
            "comment_post_ID": DEMO_POST_ID,
            "author": "Örjan Åkesson",
            "email": "orjan@exempel.se",
            "comment": "Väldigt intressant läsning.",
            "redirect_to": "http://localhost/demo/",
        },
    )
    location = urlsplit(response.headers["Location"])
    assert location.path == "/demo/"

    mine = client.get(f"/demo/?{location.query}", headers={"Accept-Language": "sv"})
    forged = client.get(
        f"/demo/?{location.query[: location.query.index('moderation-hash=')]}moderation-hash=0"
    )

    assert "Din kommentar väntar på granskning." in mine.get_data(as_text=True)
    assert "Örjan Åkesson" in mine.get_data(as_text=True)
    assert "Örjan Åkesson" not in forged.get_data(as_text=True)
