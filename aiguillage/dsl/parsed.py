"""A `.rules` file from disk → syntax tree, from the on-disk cache when its text was parsed before.

Kept apart from `parser.py` so that a warm run (every file unchanged) never
imports Lark nor builds its tables. The key covers the file's path and text,
the grammar, the source of every module of this package (the parser and
what it builds with) and the Lark version: an entry is never stale. What is cached is the tree as parsed, before the
checker annotates it.
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import cache
from pathlib import Path

from aiguillage import cache as disk_cache
from aiguillage.dsl import ast, observed
from aiguillage.dsl.diagnostics import Diagnostic, RulesError

_HERE = Path(__file__).resolve().parent


def parse_file(path: str | Path) -> ast.RulesFile:
    """Parse a file from disk; the error names the file."""
    path = Path(path)
    try:
        text = observed.read_text(path)
    except OSError as exc:
        raise RulesError(
            [Diagnostic(str(path), 1, 1, f"cannot read file: {exc.strerror}")]
        ) from None
    except UnicodeDecodeError as exc:
        raise RulesError([Diagnostic(str(path), 1, 1, f"not UTF-8 text ({exc.reason})")]) from None
    entry = disk_cache.key(_parser_fingerprint(), str(path), text)
    cached = disk_cache.load("rules", entry)
    if (
        isinstance(cached, ast.RulesFile)
        and cached.src.path == str(path)
        and cached.src.text == text
    ):
        return cached
    from aiguillage.dsl.parser import parse_text

    rules_file = parse_text(text, str(path))
    disk_cache.store("rules", entry, rules_file)
    return rules_file


@cache
def _parser_fingerprint() -> str:
    """What a parsed file depends on besides its text: the grammar, the code that builds the tree, Lark.

    Every module of the package counts (about 1 ms to hash), so that moving
    parser code to a new module can never leave a stale tree in the cache.
    """
    digest = hashlib.sha256()
    # lark's __init__ names its version; found without importing it
    spec = importlib.util.find_spec("lark")
    sources = [_HERE / "grammar.lark", *sorted(_HERE.glob("*.py"))]
    if spec is not None and spec.origin:
        sources.append(Path(spec.origin))
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()
