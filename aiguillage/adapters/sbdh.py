"""The Peppol envelope: a Standard Business Document Header around a UBL document.

Access points route on the envelope, not on the invoice: sender and receiver
participant ids (scheme `iso6523-actorid-upis`), the document type id and the
process id. The instance identifier is the delivery key, so an access point
that de-duplicates sees a re-send as the same message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
PARTICIPANT_SCHEME = "iso6523-actorid-upis"
DOCUMENT_ID_SCHEME = "busdox-docid-qns"
PROCESS_ID_SCHEME = "cenbii-procid-ubl"


@dataclass(frozen=True)
class Envelope:
    """What the header says: who to whom, which document type and process, which instance."""

    sender: str
    receiver: str
    document_type_id: str
    process_id: str
    instance_id: str
    created_at: datetime
    standard: str
    type_name: str
    type_version: str = "2.1"
    country_c1: str | None = None


def participant(value: str) -> str:
    """`0009:123` from `0009:123` or `iso6523-actorid-upis::0009:123`; ValueError when not scheme:value."""
    value = value.strip()
    if value.lower().startswith(PARTICIPANT_SCHEME + "::"):
        value = value[len(PARTICIPANT_SCHEME) + 2:]
    scheme, sep, ident = value.partition(":")
    if not sep or not scheme.isdigit() or len(scheme) != 4 or not ident.strip():
        raise ValueError(f"not a Peppol participant id (expected scheme:value such as 0088:123…): {value!r}")
    return f"{scheme}:{ident.strip()}"


def _add(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{SBDH_NS}}}{name}", attrs)
    if text is not None:
        element.text = text
    return element


def _scope(parent: etree._Element, kind: str, value: str, scheme: str | None) -> None:
    scope = _add(parent, "Scope")
    _add(scope, "Type", kind)
    _add(scope, "InstanceIdentifier", value)
    if scheme:
        _add(scope, "Identifier", scheme)


def wrap(document: etree._Element, envelope: Envelope) -> bytes:
    """Serialise `document` inside a StandardBusinessDocument with `envelope` as its header."""
    root = etree.Element(f"{{{SBDH_NS}}}StandardBusinessDocument", nsmap={None: SBDH_NS})
    header = _add(root, "StandardBusinessDocumentHeader")
    _add(header, "HeaderVersion", "1.0")
    _add(_add(header, "Sender"), "Identifier", envelope.sender, Authority=PARTICIPANT_SCHEME)
    _add(_add(header, "Receiver"), "Identifier", envelope.receiver, Authority=PARTICIPANT_SCHEME)
    ident = _add(header, "DocumentIdentification")
    _add(ident, "Standard", envelope.standard)
    _add(ident, "TypeVersion", envelope.type_version)
    _add(ident, "InstanceIdentifier", envelope.instance_id)
    _add(ident, "Type", envelope.type_name)
    created = envelope.created_at.astimezone(UTC) if envelope.created_at.tzinfo else envelope.created_at
    _add(ident, "CreationDateAndTime", created.replace(tzinfo=None).isoformat(timespec="seconds") + "Z")
    scope = _add(header, "BusinessScope")
    _scope(scope, "DOCUMENTID", envelope.document_type_id, DOCUMENT_ID_SCHEME)
    _scope(scope, "PROCESSID", envelope.process_id, PROCESS_ID_SCHEME)
    if envelope.country_c1:
        _scope(scope, "COUNTRY_C1", envelope.country_c1, None)
    root.append(document)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
