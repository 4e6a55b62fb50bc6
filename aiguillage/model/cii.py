"""UN/CEFACT CII D16B (EN 16931-3-3 binding): read into the model and write back.

The reader (`cii_reader`) makes one pass over the tree, dispatching on tags
through per-context tables, and records syntax facts (`cii_facts`) for what
the model cannot hold. The writer (`cii_writer`) emits CII in the schema's
element order. Names shared by both live in `cii_common`.
"""

from __future__ import annotations

from aiguillage.model.cii_common import QDT_NS, RAM_NS, ROOT_TAG, RSM_NS, UDT_NS
from aiguillage.model.cii_facts import element_path
from aiguillage.model.cii_reader import read_cii
from aiguillage.model.cii_writer import write_cii

__all__ = ["QDT_NS", "RAM_NS", "ROOT_TAG", "RSM_NS", "UDT_NS", "element_path", "read_cii", "write_cii"]
