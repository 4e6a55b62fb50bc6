"""Just enough IPP/1.1 (RFC 8010/8011) to submit one Print-Job over HTTP and read its answer.

A print server (CUPS or a provider's IPP endpoint) takes the PDF as it is;
we need the request encoding (operation attributes, optional job template
attributes, then the document) and the status code and job-id of the answer.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

PRINT_JOB = 0x0002
# delimiter tags
OPERATION_GROUP, JOB_GROUP, END_OF_ATTRIBUTES, PRINTER_GROUP, UNSUPPORTED_GROUP = 0x01, 0x02, 0x03, 0x04, 0x05
# value tags
INTEGER, BOOLEAN, ENUM = 0x21, 0x22, 0x23
TEXT, NAME, KEYWORD, URI, CHARSET, LANGUAGE, MIME = 0x41, 0x42, 0x44, 0x45, 0x47, 0x48, 0x49

#: Server errors that say the request can never work: operation-not-supported,
#: version-not-supported, multiple-document-jobs-not-supported.
_PERMANENT_SERVER = frozenset({0x0501, 0x0503, 0x0509})
#: The one client error that is about time, not about the request: client-error-timeout.
_TEMPORARY_CLIENT = frozenset({0x0405})


@dataclass
class IppMessage:
    """A decoded IPP message: version, operation or status code, request id, attribute groups, data."""

    version: tuple[int, int]
    code: int
    request_id: int
    groups: list[tuple[int, dict[str, list[Any]]]] = field(default_factory=list)
    data: bytes = b""

    def attribute(self, group: int, name: str) -> Any:
        """First value of `name` in the first group of kind `group`, or None."""
        for tag, attrs in self.groups:
            if tag == group and name in attrs:
                return attrs[name][0]
        return None


def _attr(tag: int, name: str, value: str | int | bool) -> bytes:
    if tag in (INTEGER, ENUM):
        raw = struct.pack(">i", int(value))
    elif tag == BOOLEAN:
        raw = b"\x01" if value else b"\x00"
    else:
        raw = str(value).encode("utf-8")
    encoded = name.encode("ascii")
    return struct.pack(">BH", tag, len(encoded)) + encoded + struct.pack(">H", len(raw)) + raw


def print_job_request(printer_uri: str, document: bytes, *, request_id: int = 1, user: str = "aiguillage",
                      job_name: str = "invoice", document_format: str = "application/pdf",
                      copies: int | None = None, sides: str | None = None, media: str | None = None) -> bytes:
    """Encode a Print-Job request carrying `document`."""
    body = bytearray(struct.pack(">BBHI", 1, 1, PRINT_JOB, request_id))
    body.append(OPERATION_GROUP)
    body += _attr(CHARSET, "attributes-charset", "utf-8")
    body += _attr(LANGUAGE, "attributes-natural-language", "en")
    body += _attr(URI, "printer-uri", printer_uri)
    body += _attr(NAME, "requesting-user-name", user)
    body += _attr(NAME, "job-name", job_name[:255])
    body += _attr(MIME, "document-format", document_format)
    template = []
    if copies is not None:
        template.append(_attr(INTEGER, "copies", copies))
    if sides:
        template.append(_attr(KEYWORD, "sides", sides))
    if media:
        template.append(_attr(KEYWORD, "media", media))
    if template:
        body.append(JOB_GROUP)
        for item in template:
            body += item
    body.append(END_OF_ATTRIBUTES)
    return bytes(body) + document


def decode(message: bytes) -> IppMessage:
    """Decode an IPP request or response; ValueError when it is truncated or malformed."""
    try:
        return _decode(message)
    except (struct.error, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed IPP message: {exc}") from None


def _decode(message: bytes) -> IppMessage:
    if len(message) < 9:
        raise ValueError("IPP message shorter than its header")
    major, minor, code, request_id = struct.unpack(">BBHI", message[:8])
    result = IppMessage((major, minor), code, request_id)
    position, current, last_name = 8, None, ""
    while position < len(message):
        tag = message[position]
        position += 1
        if tag == END_OF_ATTRIBUTES:
            result.data = message[position:]
            return result
        if tag < 0x10:  # a new attribute group
            current = {}
            result.groups.append((tag, current))
            continue
        if current is None or position + 2 > len(message):
            raise ValueError("IPP attribute outside a group")
        (name_length,) = struct.unpack(">H", message[position:position + 2])
        name = message[position + 2:position + 2 + name_length].decode("ascii")
        position += 2 + name_length
        (value_length,) = struct.unpack(">H", message[position:position + 2])
        raw = message[position + 2:position + 2 + value_length]
        position += 2 + value_length
        if len(raw) != value_length:
            raise ValueError("IPP value runs past the end of the message")
        value: Any
        if tag in (INTEGER, ENUM) and value_length == 4:
            value = struct.unpack(">i", raw)[0]
        elif tag == BOOLEAN:
            value = raw != b"\x00"
        else:
            value = raw.decode("utf-8", "replace")
        name = name or last_name  # an additional value of the previous attribute
        current.setdefault(name, []).append(value)
        last_name = name
    raise ValueError("IPP message without end-of-attributes tag")


def encode_response(status: int, request_id: int, *, job_id: int | None = None, message: str | None = None) -> bytes:
    """Encode a response (used by the loopback printer in tests)."""
    body = bytearray(struct.pack(">BBHI", 1, 1, status, request_id))
    body.append(OPERATION_GROUP)
    body += _attr(CHARSET, "attributes-charset", "utf-8")
    body += _attr(LANGUAGE, "attributes-natural-language", "en")
    if message:
        body += _attr(TEXT, "status-message", message)
    if job_id is not None:
        body.append(JOB_GROUP)
        body += _attr(INTEGER, "job-id", job_id)
        body += _attr(ENUM, "job-state", 3)  # pending
    body.append(END_OF_ATTRIBUTES)
    return bytes(body)


def status_is_temporary(status: int) -> bool:
    """Server errors (0x05xx: busy, not accepting jobs, device error) are worth retrying, except
    those that say the request can never work; client errors (0x04xx) are not, except a timeout."""
    if 0x0500 <= status <= 0x05FF:
        return status not in _PERMANENT_SERVER
    return status in _TEMPORARY_CLIENT


def http_url(printer_uri: str) -> str:
    """`ipp://host/printers/x` -> `http://host:631/printers/x` (IPP runs over HTTP; ipps over HTTPS)."""
    for scheme, replacement in (("ipps://", "https://"), ("ipp://", "http://")):
        if printer_uri.startswith(scheme):
            rest = printer_uri[len(scheme):]
            host, slash, path = rest.partition("/")
            if ":" not in host.rsplit("]", 1)[-1]:
                host += ":631" if scheme == "ipp://" else ":443"
            return f"{replacement}{host}{slash}{path}"
    return printer_uri
