"""What a case expects, and reading it from YAML.

Findings present or absent, enriched values, routes and holds: each
expectation reads as the Decision shows it, and every key is checked, so a
misspelt `findngs:` is an error with a suggestion instead of a case that
checks nothing and always passes.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiguillage.engine.tester.yamlio import CaseFileError

_EXPECT_KEYS = ("findings", "no_findings", "enriched", "routes", "holds", "valid", "fires", "silent")
#: The API's test endpoint (POST /v1/rulesets/{id}/test) says `fires` / `silent`; the same words work here.
_ALIASES = {"fires": "findings", "silent": "no_findings"}
_FINDING_KEYS = ("rule", "severity", "path", "message", "occurrence")
_ROUTE_KEYS = ("channel", "format", "to", "params")
_SEVERITIES = ("fatal", "error", "warning", "info")


@dataclass(frozen=True)
class FindingSpec:
    """A finding a case expects (or forbids): the rule, and optionally more about it."""

    rule: str
    severity: str | None = None
    path: str | None = None
    message: str | None = None
    occurrence: str | None = None

    def describe(self) -> str:
        parts = [self.rule]
        if self.severity:
            parts.append(self.severity)
        if self.occurrence:
            parts.append(f"[{self.occurrence}]")
        if self.path:
            parts.append(f"at {self.path}")
        if self.message:
            parts.append(f"with message containing {self.message!r}")
        return " ".join(parts)


@dataclass(frozen=True)
class RouteSpec:
    """An expected route; what is not given is not checked (params: only the ones named)."""

    channel: str
    format: str | None = None
    to: str | None = None
    params: tuple[tuple[str, Any], ...] = ()

    def describe(self) -> str:
        parts = [self.channel]
        if self.format:
            parts.append(f"as {self.format}")
        if self.to:
            parts.append(f"to {self.to}")
        if self.params:
            parts.append("with " + ", ".join(f"{k} = {v}" for k, v in self.params))
        return " ".join(parts)


@dataclass(frozen=True)
class HoldSpec:
    """An expected hold: an approval by a role, or a hold whose reason contains a text."""

    kind: str
    role: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        if self.kind == "approval":
            return f"approval by {self.role}" if self.role else "approval"
        return f"hold {self.reason!r}" if self.reason else "hold"


@dataclass
class Expectations:
    """What a case checks; None means "not checked" (an empty list means "none at all")."""

    findings: list[FindingSpec] = field(default_factory=list)
    no_findings: list[FindingSpec] = field(default_factory=list)
    enriched: dict[str, Any] = field(default_factory=dict)
    routes: list[RouteSpec] | None = None
    holds: list[HoldSpec] | None = None
    valid: bool | None = None

    @property
    def empty(self) -> bool:
        return not (self.findings or self.no_findings or self.enriched) and self.routes is None and self.holds is None and self.valid is None


# --------------------------------------------------------------------------- reading


def parse_expectations(path: Path, data: Any, case_line: int) -> Expectations:
    if data is None:
        raise CaseFileError(f"{path}:{case_line}: the case has no expect: (what must the ruleset conclude?)")
    if not isinstance(data, dict):
        raise CaseFileError(f"{path}:{case_line}: expect: must be a mapping (findings:, enriched:, routes:, ...)")
    line = line_of(data) or case_line
    check_keys(path, data, _EXPECT_KEYS, "expect:", line)
    for alias, key in _ALIASES.items():
        if alias in data:
            if key in data:
                raise CaseFileError(f"{path}:{line}: give {key}: or {alias}: (the same thing), not both")
            data = {**data, key: data[alias]}
    out = Expectations()
    out.findings = [_finding(path, item, line) for item in _as_list(data.get("findings"))]
    out.no_findings = [_finding(path, item, line) for item in _as_list(data.get("no_findings"))]
    enriched = data.get("enriched") or {}
    if not isinstance(enriched, dict):
        raise CaseFileError(f"{path}:{line}: enriched: must map fields to their expected values")
    out.enriched = dict(enriched)
    if "routes" in data:
        out.routes = [_route(path, item, line) for item in _as_list(data["routes"])]
    if "holds" in data:
        out.holds = [_hold(path, item, line) for item in _as_list(data["holds"])]
    if "valid" in data:
        if not isinstance(data["valid"], bool):
            raise CaseFileError(f"{path}:{line}: valid: is true (no fatal or error finding) or false")
        out.valid = data["valid"]
    if out.empty:
        raise CaseFileError(f"{path}:{case_line}: expect: checks nothing; say what the ruleset must conclude")
    return out


def _finding(path: Path, item: Any, line: int) -> FindingSpec:
    if isinstance(item, str):
        return FindingSpec(rule=item.strip())
    if not isinstance(item, dict) or not item.get("rule"):
        raise CaseFileError(f"{path}:{line_of(item) or line}: a finding is a rule id, or rule: with severity:, path:, message:, occurrence:")
    check_keys(path, item, _FINDING_KEYS, "a finding", line_of(item) or line)
    severity = item.get("severity")
    if severity is not None and severity not in _SEVERITIES:
        raise CaseFileError(f"{path}:{line_of(item)}: severity {severity!r} is not one of {', '.join(_SEVERITIES)}")
    return FindingSpec(
        rule=str(item["rule"]),
        severity=severity,
        path=opt_str(item.get("path")),
        message=opt_str(item.get("message")),
        occurrence=opt_str(item.get("occurrence")),
    )


_ROUTE_TEXT = re.compile(r"^\s*(?P<channel>[\w-]+)(?:\s+as\s+(?P<format>[\w-]+))?(?:\s+to\s+(?P<to>\S+))?\s*$")


def _route(path: Path, item: Any, line: int) -> RouteSpec:
    if isinstance(item, str):
        match = _ROUTE_TEXT.match(item)
        if not match:
            raise CaseFileError(f"{path}:{line}: route {item!r}: write it as 'CHANNEL [as FORMAT] [to ADDRESS]'")
        return RouteSpec(match["channel"], match["format"], match["to"])
    if not isinstance(item, dict) or not item.get("channel"):
        raise CaseFileError(f"{path}:{line_of(item) or line}: a route is 'email as pdf', or channel: with format:, to:, params:")
    check_keys(path, item, _ROUTE_KEYS, "a route", line_of(item) or line)
    params = item.get("params") or {}
    if not isinstance(params, dict):
        raise CaseFileError(f"{path}:{line_of(item)}: params: must map names to values")
    return RouteSpec(str(item["channel"]), opt_str(item.get("format")), opt_str(item.get("to")), tuple(params.items()))


def _hold(path: Path, item: Any, line: int) -> HoldSpec:
    if isinstance(item, str):
        text = item.strip()
        if text.startswith("approval"):
            role = text.removeprefix("approval").strip().removeprefix("by").strip().strip('"')
            return HoldSpec("approval", role=role or None)
        if text.startswith("hold"):
            reason = text.removeprefix("hold").strip().strip('"')
            return HoldSpec("hold", reason=reason or None)
    elif isinstance(item, dict) and len(item) == 1 and ("approval" in item or "hold" in item):
        if "approval" in item:
            return HoldSpec("approval", role=opt_str(item["approval"]))
        return HoldSpec("hold", reason=opt_str(item["hold"]))
    raise CaseFileError(f"{path}:{line_of(item) or line}: a hold is 'approval by ROLE', 'hold', or approval: ROLE / hold: REASON")


def check_keys(path: Path, data: dict[str, Any], allowed: tuple[str, ...], what: str, line: int | None = None) -> None:
    for key in data:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {near[0]}?" if near else f" (known: {', '.join(allowed)})"
            raise CaseFileError(f"{path}:{line or line_of(data)}: {what} has no key {key!r}{hint}")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def opt_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def line_of(data: Any) -> int:
    return getattr(data, "line", 0)
