"""The endpoint's request bodies: DRF's parsers, and the errors of a body they cannot take.

The body is at most ``{"components": "<preset name>"}``, as JSON or a form. Whatever else
arrives is answered with a 4xx JSON error of a stable code, never a 500 or an HTML page:

- A ``charset`` that is not a text encoding Python knows (``charset=foo``, or a codec such
  as ``zlib`` that Python's codec registry holds but that decodes bytes to bytes) or a
  ``Content-Encoding`` (``gzip``): 415 ``unsupported_media_type``. Django ignores an
  unknown charset and DRF would decode with a ``zlib`` one, so the parsers look first.
- JSON nested deeper than Python's recursion limit, or an object that gives a name twice:
  400 ``parse_error``. DRF's :class:`~rest_framework.parsers.JSONParser` catches
  ``ValueError`` only, and ``json`` raises ``RecursionError``; it keeps the last value of a
  name given twice.
- A multipart body without its closing boundary (cut off on the way) is 400
  ``parse_error``: Django's parser keeps the fields it read so far, and the last one may
  be cut short. A file in it is refused before a byte of it is stored: the endpoint
  takes no files, and Django would write a large one to a temporary file first.
- A JSON or form body shorter than its ``Content-Length`` (the client stopped sending):
  400 ``parse_error``, though what arrived may parse.
- A body sent without ``Content-Length`` (``Transfer-Encoding: chunked``): 411
  ``length_required``. DRF reads no body without ``Content-Length`` and Django's WSGI
  request cannot, so such a body would otherwise be taken for an empty one.
- Past Django's limits (``DATA_UPLOAD_MAX_MEMORY_SIZE``, ``DATA_UPLOAD_MAX_NUMBER_FIELDS``,
  ``DATA_UPLOAD_MAX_NUMBER_FILES``) Django raises ``SuspiciousOperation`` subclasses, which
  DRF leaves to Django's HTML 400 page; :func:`api_exception` turns them into 413
  ``request_too_large`` and ``too_many_fields`` for the endpoint's exception handler.
  Django counts form fields only; the JSON parser holds JSON objects to the same limit.
"""

from __future__ import annotations

import codecs
import json
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousMultipartForm,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.files.uploadhandler import FileUploadHandler
from django.http import UnreadablePostError
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions, parsers, status
from rest_framework.request import Request


class LengthRequired(exceptions.APIException):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_detail = "Send the request body with a Content-Length header, not chunked."
    default_code = "length_required"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class TooManyFields(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body has too many fields."
    default_code = "too_many_fields"


def api_exception(exc: Exception) -> exceptions.APIException | None:
    """The endpoint's error for an exception Django raises while reading a body, or None.

    A ``SuspiciousOperation`` is still logged as Django's handler logs it, to the
    ``django.security.<class name>`` logger that sites watch.
    """
    if isinstance(exc, SuspiciousOperation):
        logging.getLogger(f"django.security.{type(exc).__name__}").error(str(exc))
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return TooManyFields()
    if isinstance(exc, SuspiciousMultipartForm):
        return exceptions.ParseError("Multipart form parse error - the body is malformed.")
    if isinstance(exc, UnreadablePostError):
        # The client went away while sending; nobody may read the answer, but it is no 500.
        return exceptions.ParseError("The request body could not be read.")
    return None


def request_data(request: Request) -> Any:
    """``request.data``, refused with 411 when the body has no ``Content-Length``."""
    if "Transfer-Encoding" in request.headers:
        raise LengthRequired()
    return request.data


def _is_text_encoding(name: str) -> bool:
    # bytes.decode takes text encodings only: "zlib", "base64" or "rot13" raise LookupError
    # here though codecs.lookup (which Django asks) knows them. (An empty bytes is decoded
    # without looking the codec up, so decode a byte.)
    try:
        b"a".decode(name)
    except UnicodeError:
        return True  # a text encoding (UTF-16, say) that needs more than one byte
    except (LookupError, ValueError):
        return False
    return True


class _CheckedBody(parsers.BaseParser):
    """Refuses a charset or a ``Content-Encoding`` the parser would misread (415), and a
    body that ended before its ``Content-Length`` (400: the client stopped sending, and
    what arrived may parse, without the rest).

    Put first in the bases: its ``parse`` checks, then hands over to the DRF parser's.
    """

    #: Whether the parser reads the body whole (``request.body``); multipart streams it,
    #: and its parser refuses a body without its closing boundary instead.
    reads_whole_body = True

    def check(self, media_type: str | None, parser_context: Mapping[str, Any] | None) -> None:
        request = (parser_context or {})["request"]
        media_type = media_type or ""
        # DRF parses only bodies whose Content-Length it could read as a number.
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
        if self.reads_whole_body and len(request.body) < announced:
            raise exceptions.ParseError(
                f"The request body ended after {len(request.body)} of its {announced} bytes."
            )
        encoding = request.headers.get("Content-Encoding", "").strip().lower()
        if encoding not in ("", "identity"):
            raise exceptions.UnsupportedMediaType(
                media_type,
                detail=f"Content-Encoding {encoding!r} is not accepted; send the body as is.",
            )
        charset = request.content_params.get("charset")
        if charset is not None and not _is_text_encoding(charset):
            raise exceptions.UnsupportedMediaType(
                media_type, detail=f"Unsupported charset {charset!r} in the Content-Type."
            )

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        self.check(media_type, parser_context)
        return super().parse(stream, media_type, parser_context)


class _Names:
    """``json``'s ``object_pairs_hook``: refuses a name given twice in an object, and more
    names in all than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` (Django's limit for forms; a wide
    object would otherwise cost as much to refuse, one message per unknown name)."""

    def __init__(self) -> None:
        self.limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        self.count = 0

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        self.count += len(pairs)
        if self.limit is not None and self.count > self.limit:
            raise TooManyFields()
        names: set[str] = set()
        for name, _ in pairs:
            if name in names:
                raise ValueError(f"the name {name!r} is given twice")
            names.add(name)
        return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


#: The deepest JSON body taken. The endpoint's body is one object deep; past this, the
#: answer is the same 400 ``parse_error`` on every Python (``json`` itself parses 1000
#: levels on Python 3.12 and 3.13 but raises ``RecursionError`` on 3.11).
MAX_JSON_DEPTH = 32


def _depth(value: Any) -> int:
    """How deep ``value`` nests lists and dicts, without recursing."""
    deepest, level = 0, [(value, 1)]
    while level:
        item, depth = level.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            level.extend((child, depth + 1) for child in children)
    return deepest


class JSONParser(_CheckedBody, parsers.JSONParser):
    """DRF's JSON parser, refusing more bodies: nested deeper than ``MAX_JSON_DEPTH`` (or
    than Python's recursion limit: ``json`` raises ``RecursionError``, which DRF lets
    through as a 500), an object
    that gives a name twice (``json`` keeps the last value and drops the first), and more
    names than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` (413 ``too_many_fields``).

    DRF's ``parse`` passes ``json`` no ``object_pairs_hook``, so this is its ``parse``
    (decode with the request's encoding, NaN and Infinity refused under ``STRICT_JSON``)
    with the hook and the ``RecursionError`` added.
    """

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        self.check(media_type, parser_context)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.load(
                codecs.getreader(encoding)(stream),
                object_pairs_hook=_Names(),
                parse_constant=_no_constant if self.strict else None,
            )
            if _depth(data) > MAX_JSON_DEPTH:
                raise RecursionError
            return data
        except RecursionError:
            raise exceptions.ParseError(
                "JSON parse error - the body is nested too deeply."
            ) from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None


class FormParser(_CheckedBody, parsers.FormParser):
    pass


class _NoFiles(FileUploadHandler):
    """Refuses a multipart body's first file, before any of it is stored."""

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        raise exceptions.ValidationError(
            {field_name: ["Files are not accepted; send the preset name as text."]}
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class _ClosingBoundary:
    """A pass-through reader of a multipart body that notes its closing delimiter."""

    def __init__(self, stream: Any, boundary: str) -> None:
        self._stream = stream
        self._close = b"--" + boundary.encode("ascii") + b"--"
        self._tail = b""
        self.seen = False

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self._stream.read(size)
        if chunk and not self.seen:
            window = self._tail + chunk
            self.seen = self._close in window
            self._tail = window[-(len(self._close) - 1) :]
        return chunk


class MultiPartParser(_CheckedBody, parsers.MultiPartParser):
    """DRF's multipart parser with two more refusals: files, and a body cut short.

    DRF's ``parse`` takes the request's upload handlers and stream as they are, so this
    one calls Django's parser itself, as DRF's does, with :class:`_NoFiles` and the
    stream read through :class:`_ClosingBoundary`.
    """

    reads_whole_body = False

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        self.check(media_type, parser_context)
        context = parser_context or {}
        request = context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        boundary = str(request.content_params.get("boundary", ""))
        try:
            watched = _ClosingBoundary(stream, boundary)
            # Django's parser reads its input with read() only (ChunkIter).
            parser = DjangoMultiPartParser(
                meta,
                watched,  # type: ignore[arg-type]
                [_NoFiles()],
                context.get("encoding"),
            )
            data, files = parser.parse()
        except (MultiPartParserError, UnicodeEncodeError) as exc:
            raise exceptions.ParseError(f"Multipart form parse error - {exc}") from None
        if not watched.seen:
            raise exceptions.ParseError(
                "Multipart form parse error - the body ends before its closing boundary."
            )
        return parsers.DataAndFiles(data, files)
