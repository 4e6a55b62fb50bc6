"""UBL 2.1 Invoice and CreditNote: read into the EN 16931 model and write back.

The reader (`ubl_reader`) walks the tree once, dispatching on tags through
per-context tables, and records syntax facts (listed at the top of
`ubl_reader`) for what the model cannot hold. The writer (`ubl_writer`)
emits schema-valid UBL 2.1 in the UBL schema's element order.
`read_ubl_bytes` streams large invoices (lxml iterparse, lines dropped once
read) for the same result with a fraction of the memory.
"""

from __future__ import annotations

from aiguillage.model.ubl_reader import read_ubl, read_ubl_bytes
from aiguillage.model.ubl_writer import write_ubl

__all__ = ["read_ubl", "read_ubl_bytes", "write_ubl"]
