"""Run-time look-up of rule families: which members a key value fires.

A family (`family UBL-CR warning … lookup f.path`, see docs/language.md) is
compiled to one dict from key to its members; keys written `//a/b` match the
end of a path, looked up here only when the family has such keys.
"""

from __future__ import annotations

from typing import Any

Members = tuple[tuple[int, Any], ...]
_NONE: Members = ()


def hits(exact: dict[str, Members], suffixes: dict[str, Members], key: object) -> Members:
    """The (meta index, meta) pairs of the members whose key matches `key`."""
    if key.__class__ is not str:
        return _NONE
    found = exact.get(key, _NONE)
    if suffixes:
        position = key.find("/")
        while position >= 0:
            more = suffixes.get(key[position + 1 :])
            if more:
                found = found + more
            position = key.find("/", position + 1)
        more = suffixes.get(key)
        if more:
            found = found + more
    return found


def tables(members: list[tuple[tuple[str, ...], int, Any]]) -> tuple[dict[str, Members], dict[str, Members]]:
    """Exact and suffix tables from (keys, meta index, meta) per member."""
    exact: dict[str, Members] = {}
    suffixes: dict[str, Members] = {}
    for keys, index, meta in members:
        for key in keys:
            table, name = (suffixes, key[2:]) if key.startswith("//") else (exact, key)
            table[name] = table.get(name, ()) + ((index, meta),)
    return exact, suffixes
