"""JSON responses encoded by orjson: the bytes Flask's compact stdlib encoder would write
(UTF-8 rather than \\u escapes, keys in insertion order, a final newline) at a fraction of
the cost, which on a 200-comment thread page was a quarter of the request's CPU."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response

# Dates and dataclasses go to Flask's default() (HTTP dates, dataclasses.asdict), exactly as
# with the stdlib encoder; orjson's own forms of them differ.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_APPEND_NEWLINE
)


class OrjsonProvider(DefaultJSONProvider):
    """Only responses change encoder: dumps() and loads() (request bodies, templates) stay
    the stdlib's, configured the same way. The API writes no floats, the one type the two
    encoders spell differently (1e-05 and 0.00001)."""

    ensure_ascii = False  # å stays å on the wire
    sort_keys = False

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._response_class = app.response_class

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)  # indented for reading
        obj = self._prepare_response_obj(args, kwargs)
        try:
            body = orjson.dumps(obj, default=self.default, option=_OPTIONS)
        except TypeError:
            # What orjson refuses and the stdlib encodes (non-string keys, integers beyond
            # 64 bits), or what neither can, which then raises there as it always did.
            return super().response(*args, **kwargs)
        return self._response_class(body, mimetype=self.mimetype)
