"""Shared pieces of the adapter tests: the sample invoice and a renderer using the project's real writers."""

from __future__ import annotations

from pathlib import Path

from aiguillage.adapters.documents import DocumentRenderer
from aiguillage.model.invoice import Invoice
from aiguillage.model.jsonio import read_json

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "atelier-lumiere-F2026-0042.json"


def sample_invoice() -> Invoice:
    """The French sample invoice: three lines, a charge, two VAT rates, GLNs for seller, buyer and delivery."""
    return read_json(SAMPLE.read_bytes(), str(SAMPLE))


def long_invoice(lines: int = 90) -> Invoice:
    """The sample with many lines, so every rendition spans several pages."""
    invoice = sample_invoice()
    template = invoice.lines[1]
    invoice.lines = [template.model_copy(update={"identifier": str(n)}, deep=True) for n in range(1, lines + 1)]
    return invoice


def make_renderer() -> DocumentRenderer:
    """A renderer with the project's writers and PDF rendition."""
    return DocumentRenderer()

