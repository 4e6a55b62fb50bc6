"""Patching an invoice by field path, so one realistic base invoice serves many cases.

A patch maps field paths of the rules language to new values:

    order_reference: "PO-123456"            # a field
    BT-13: "PO-123456"                      # the same field, by business term id
    lines[2].quantity: "3"                  # line 2 (counted from 1, as findings count)
    lines[*].vat.rate: "20"                 # every line
    buyer.legal_registration_identifier: "52198765400027"   # an identifier's value
    buyer.legal_registration_identifier.scheme: "0009"      # ... and its scheme
    delivery: null                          # remove (the field becomes missing)
    lines: {repeat: 1, times: 250}          # 250 copies of line 1, numbered 1..250

Paths are checked against the model, with a suggestion for a misspelt name,
and the patched invoice is validated again, so a patch cannot make an
invoice the readers could never produce.
"""

from __future__ import annotations

import copy
import difflib
import re
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from aiguillage.model import catalogue
from aiguillage.model.invoice import BinaryObject, Identifier, Invoice

_STEP = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<index>[^\]]*)\])?$")
_WRAPPERS = (Identifier, BinaryObject)


class PatchError(ValueError):
    """A patch that names no field of the model or cannot be applied; says which and why."""


def apply_patch(invoice: Invoice, patch: dict[str, Any]) -> Invoice:
    """A new invoice: `invoice` with every patch applied in order (the original is unchanged)."""
    data = invoice.model_dump(mode="python", exclude_none=True)
    for raw_path, value in patch.items():
        steps = _parse(str(raw_path))
        _apply(data, Invoice, steps, _plain(value), str(raw_path))
    try:
        patched = Invoice.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PatchError(f"the patched invoice is not valid at {where}: {first['msg']}") from None
    return patched


def _parse(path: str) -> list[tuple[str, str | None]]:
    """`lines[2].item.name` → [("lines", "2"), ("item", None), ("name", None)]; BT ids resolved."""
    if path.upper().startswith(("BT-", "BG-")):
        entry = catalogue.lookup(path)
        if entry is None:
            raise PatchError(f"{path}: no such business term")
        if "[]" in entry.path:
            raise PatchError(f"{path} ({entry.path}) repeats; name it by path with the occurrence, e.g. {entry.path.replace('[]', '[1]', 1)}")
        path = entry.path
    steps = []
    for part in path.split("."):
        match = _STEP.match(part)
        if not match:
            raise PatchError(f"{path}: {part!r} is not a field name (write a.b, lines[2].c or lines[*].c)")
        steps.append((match["name"], match["index"]))
    return steps


def _apply(data: dict[str, Any], model: type[BaseModel], steps: list[tuple[str, str | None]], value: Any, path: str) -> None:
    name, index = steps[0]
    inner, is_list = _field(model, name, path)
    rest = steps[1:]
    if index is not None and not is_list:
        raise PatchError(f"{path}: {name} does not repeat; write it without [{index}]")
    if is_list and index is None:
        if rest:
            raise PatchError(f"{path}: {name} repeats; say which one: {name}[1] (the first), or {name}[*] (all)")
        new = _list_value(data.get(name), value, path)
        if new is None:
            data.pop(name, None)
        else:
            data[name] = new
        return
    if not rest:
        if is_list:
            _set_occurrences(data.setdefault(name, []), index or "", inner, value, name, path)
        else:
            _set(data, name, inner, value)
        return
    if not isinstance(inner, type) or not issubclass(inner, BaseModel) or inner in _WRAPPERS and rest[0][0] not in inner.model_fields:
        raise PatchError(f"{path}: {name} has no parts; {'.'.join(s[0] for s in rest)} cannot be set")
    if not is_list:
        child = data.get(name)
        if not isinstance(child, dict):
            child = data[name] = {}
        _apply(child, inner, rest, value, path)
        return
    items = data.setdefault(name, [])
    for item in _occurrences(items, index or "", name, path):
        _apply(item, inner, rest, value, path)


def _occurrences(items: list[dict[str, Any]], index: str, name: str, path: str) -> list[dict[str, Any]]:
    """The occurrences `[n]` or `[*]` names; `[n]` one past the end adds an occurrence."""
    if index == "*":
        if not items:
            raise PatchError(f"{path}: the invoice has no {name} to change")
        return items
    if not index.isdigit():
        raise PatchError(f"{path}: [{index}] is not an occurrence; write [1] for the first, [*] for all")
    number = int(index)
    if number == 0:
        raise PatchError(f"{path}: occurrences are counted from 1, as in findings ({name}[1] is the first)")
    if number == len(items) + 1:
        items.append({})
    elif number > len(items):
        raise PatchError(f"{path}: the invoice has {len(items)} {name}; [{number}] is beyond (add them in order)")
    return [items[number - 1]]


def _set_occurrences(items: list[Any], index: str, inner: Any, value: Any, name: str, path: str) -> None:
    """`seller.identifiers[1]: "3012345000208"` sets a whole occurrence; null removes it."""
    targets = _occurrences(items, index, name, path)
    positions = [next(i for i, item in enumerate(items) if item is target) for target in targets]
    if value is None:
        for position in sorted(positions, reverse=True):
            del items[position]
        return
    for position in positions:
        holder = {"item": items[position]}
        _set(holder, "item", inner, value)
        items[position] = holder["item"]


def _list_value(current: Any, value: Any, path: str) -> Any:
    """A whole repeating group: a list, null (none), or {repeat: N, times: M}."""
    if value is None or isinstance(value, list):
        return value
    if isinstance(value, dict) and set(value) == {"repeat", "times"}:
        items = current or []
        which, times = value["repeat"], value["times"]
        if not (isinstance(which, int) and 1 <= which <= len(items)) or not (isinstance(times, int) and times >= 0):
            raise PatchError(f"{path}: repeat: must name an existing occurrence (1..{len(items)}) and times: a count")
        out = []
        for number in range(1, times + 1):
            item = copy.deepcopy(items[which - 1])
            if "identifier" in item:
                item["identifier"] = str(number)
            out.append(item)
        return out
    raise PatchError(f"{path}: a repeating group is set to a list, to null, or to {{repeat: N, times: M}}")


def _set(data: dict[str, Any], name: str, inner: Any, value: Any) -> None:
    if value is None:
        data.pop(name, None)
    elif inner in _WRAPPERS and not isinstance(value, dict):
        current = data.get(name)
        data[name] = {**(current if isinstance(current, dict) else {}), ("value" if inner is Identifier else "content"): value}
    else:
        data[name] = value


def _field(model: type[BaseModel], name: str, path: str) -> tuple[Any, bool]:
    fields = model.model_fields
    if name not in fields:
        near = difflib.get_close_matches(name, list(fields), n=1)
        hint = f"; did you mean {near[0]}?" if near else ""
        raise PatchError(f"{path}: {'the invoice' if model is Invoice else model.__name__} has no field {name!r}{hint}")
    return catalogue.unwrap(fields[name].annotation)


def _plain(value: Any) -> Any:
    """YAML values as the model reads them: numbers as exact text (so text fields accept them too)."""
    if isinstance(value, bool) or value is None or isinstance(value, date | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"repeat", "times"}:
            return dict(value)
        return {str(k): _plain(v) for k, v in value.items()}
    return value
