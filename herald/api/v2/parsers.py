"""Request body parsers that turn every body Herald can't hold into a 400 at the door, never a 500 later (the rules
are `herald.bodies`', shared with channel callbacks)."""

import io

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser

from herald import bodies


def _encoding(parser_context) -> str:
    return (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)


class StrictJSONParser(JSONParser):
    """JSON that Herald can store and echo back (see `herald.bodies.read_json`)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return bodies.read_json(stream, _encoding(parser_context))
        except bodies.UnreadableBody as exc:
            raise ParseError(str(exc)) from None


class StrictFormParser(FormParser):
    """A urlencoded form whose text is valid in its encoding (see `herald.bodies.check_form`)."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read()
        try:
            bodies.check_form(body, _encoding(parser_context))
        except bodies.UnreadableBody as exc:
            raise ParseError(str(exc)) from None
        return super().parse(io.BytesIO(body), media_type, parser_context)
