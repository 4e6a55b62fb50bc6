"""Compile the readers' generated Python once per content, not once per process.

Importing the UBL reader generates one function per context (~170) and
compiling them took two thirds of the import: ~50 ms of every `aiguillage`
process that reads UBL, and of every API worker. The code objects are kept in
one entry of the on-disk cache (`aiguillage.cache`, kind "reader"), each under
the SHA-256 of its exact source and file name: an entry is never stale, a
changed table simply compiles again. The entry holds what this process used,
so code that is no longer generated drops out at the next write.
"""

from __future__ import annotations

import marshal
import sys
from types import CodeType

from aiguillage import cache as disk_cache

_KIND = "reader"
#: One entry per Python version (marshal's format is Python's own).
_ENTRY = disk_cache.key("generated reader code", sys.version)

#: source digest → marshalled code: what the cache held, then what this process compiled.
_known: dict[str, bytes] | None = None
#: The digests this process used, and whether any of them had to be compiled.
_used: set[str] = set()
_compiled_any = False


def compiled(source: str, filename: str) -> CodeType:
    """`compile(source, filename, "exec")`, from the cache when this exact source was compiled before."""
    global _known, _compiled_any
    if _known is None:
        saved = disk_cache.load(_KIND, _ENTRY)
        _known = saved if isinstance(saved, dict) else {}
    digest = disk_cache.key(source, filename)
    _used.add(digest)
    data = _known.get(digest)
    if isinstance(data, bytes):
        try:
            code = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            code = None
        if isinstance(code, CodeType):
            return code
    code = compile(source, filename, "exec")
    _known[digest] = marshal.dumps(code)
    _compiled_any = True
    return code


def save() -> None:
    """Write what this process used, if any of it had to be compiled (a cold or changed reader)."""
    global _compiled_any
    if not _compiled_any or _known is None:
        return
    disk_cache.store(
        _KIND, _ENTRY, {digest: _known[digest] for digest in _used if digest in _known}
    )
    _compiled_any = False
