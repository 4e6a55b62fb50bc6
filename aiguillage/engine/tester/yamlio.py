"""Reading test-case YAML the way an analyst means it.

Two things differ from plain `yaml.safe_load`: numbers with a decimal point
stay exact (`12000.00` is `Decimal("12000.00")`, never a float that would
print as `12000.0`), and every mapping remembers the line it starts on, so
a mistake in a case file is reported with its line.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml


class Mapping(dict):
    """A YAML mapping that knows its line (1-based) in the file."""

    line: int = 0


class _Loader(yaml.SafeLoader):
    """SafeLoader with exact decimals and line-aware mappings."""


def _float(loader: _Loader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except ArithmeticError:
        return float(text)  # .inf, .nan: kept as YAML says


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Mapping:
    out = Mapping()
    out.line = node.start_mark.line + 1
    yield out
    out.update(loader.construct_mapping(node, deep=True))


_Loader.add_constructor("tag:yaml.org,2002:float", _float)
_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)


class CaseFileError(ValueError):
    """A case file that cannot be used; the message names the file and line."""


def load_yaml(path: Path) -> Any:
    """Parse one YAML file; syntax errors become a `CaseFileError` with file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise CaseFileError(f"{where}: not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise CaseFileError(f"{path}: not valid YAML: {exc}") from None
