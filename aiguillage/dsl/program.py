"""A ruleset as a whole: its file, the files it includes, the rulesets it extends.

`load_program` reads a `.rules` file, splices in its `include`s (a big
standard ruleset is split over files written by several people), resolves
`extends` through a callback (the engine's loader knows where rulesets
live), checks everything, and fingerprints the result: the hash covers every
file and data file involved and every ruleset extended, so a compiled
ruleset can be cached and shared by content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiguillage.dsl import ast, observed
from aiguillage.dsl.checker import Checker, Declarations
from aiguillage.dsl.diagnostics import Diagnostic, RulesError, at_node
from aiguillage.dsl.parsed import parse_file
from aiguillage.dsl.refdata import (
    Codelist,
    RefDataError,
    ReferenceData,
    Table,
    load_codelist,
    load_table,
    reference_table,
)

#: Part of every fingerprint: bump when the meaning or compiled form of the language changes.
LANGUAGE_VERSION = "1"

_SINGLE_HEADERS = ("ruleset", "version", "effective", "description", "allocation")


@dataclass(eq=False)
class Program:
    """A checked ruleset, ready to compile."""

    name: str
    version: str
    path: str
    files: list[ast.RulesFile]
    #: Every statement of the ruleset in order, included files spliced in.
    items: list[ast.Statement]
    parents: list[Program]
    decls: Declarations
    hash: str
    customers: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    #: Every file read (rules and data), for noticing when the ruleset changes on disk.
    sources: list[Path] = field(default_factory=list)
    #: Reference tables of the service read (`table NAME key COL`), name → content version: part of `hash`.
    references: dict[str, str] = field(default_factory=dict)
    #: `profile "SPEC" uses "NAME"`: BT-24 value → the ruleset that judges such invoices in this one's place.
    profiles: dict[str, str] = field(default_factory=dict)
    #: Finds a ruleset by name (the loader's); profiles are resolved through it when compiled, not when
    #: loaded, since a profile's ruleset usually extends the ruleset that names it.
    resolve: Callable[[str], Program] | None = field(default=None, repr=False)
    #: What loading it saw of the disk, its parents' loads included (`observed`), None when that could not
    #: all be noted (an unreadable file): set by the loader.
    notes: tuple[observed.Note, ...] | None = field(default=(), repr=False)

    def statements(self, kind: type) -> list:
        return [
            s
            for item in self.items
            if isinstance(item, ast.Section)
            for s in item.items
            if isinstance(s, kind)
        ]

    @property
    def validate_rules(self) -> list[ast.ValidateRule]:
        """Every validate rule in order, the members of a family where the family stands."""
        rules: list[ast.ValidateRule] = []
        for item in self.items:
            if isinstance(item, ast.Section):
                for s in item.items:
                    if isinstance(s, ast.ValidateRule):
                        rules.append(s)
                    elif isinstance(s, ast.Family):
                        rules.extend(s.members)
        return rules

    @property
    def families(self) -> list[ast.Family]:
        return self.statements(ast.Family)

    @property
    def enrich_rules(self) -> list[ast.EnrichRule]:
        return self.statements(ast.EnrichRule)

    @property
    def has_route(self) -> bool:
        return any(isinstance(i, ast.Section) and i.kind == "route" for i in self.items)

    @property
    def route_items(self) -> list[ast.Statement]:
        return [
            s
            for item in self.items
            if isinstance(item, ast.Section) and item.kind == "route"
            for s in item.items
            if not isinstance(s, ast.Override | ast.Disable)
        ]

    @property
    def lets(self) -> list[ast.LetDecl]:
        """Its lets, and the lets of the params it declares (`param`)."""
        return [i for i in self.items if isinstance(i, ast.LetDecl)] + [
            i.let for i in self.params if i.let is not None
        ]

    @property
    def params(self) -> list[ast.ParamDecl]:
        """Its `param` statements: those it declares and those setting an inherited param again."""
        return [i for i in self.items if isinstance(i, ast.ParamDecl)]

    def lineage(self) -> list[Program]:
        """Every ruleset this one builds on, each once, parents before children, this one last."""
        out: list[Program] = []

        def visit(p: Program) -> None:
            for parent in p.parents:
                visit(parent)
            if all(q is not p for q in out):
                out.append(p)

        visit(self)
        return out


ParentResolver = Callable[[str], Program]

#: Reads a tenant's reference table by name (None when there is none): how the service backs `table NAME key COL`.
ReferenceResolver = Callable[[str], ReferenceData | None]


def load_program(
    path: str | Path,
    *,
    resolve_parent: ParentResolver | None = None,
    codelist_dirs: list[Path] | None = None,
    references: ReferenceResolver | None = None,
    parsed: ast.RulesFile | None = None,
) -> Program:
    """Read, splice, resolve and check a ruleset file. Raises `RulesError` listing every problem.

    `references` is given by the service only: without it a `table NAME key
    COL` declaration (a reference table in the database) is reported, not read.
    `parsed` is the main file already parsed, for a text that is not a file
    (the service's stored rulesets, parsed once per compilation): `path` then
    only names it, and the tree is checked in place, so it must be the caller's own.
    """
    return _Loader(resolve_parent, codelist_dirs or [], references).load(Path(path), parsed)


def spliced_items(path: Path) -> tuple[ast.RulesFile, list[ast.Statement]]:
    """A ruleset file parsed, and its statements with what it includes spliced in, not checked:
    what the test runner needs to find the tables a ruleset declares without loading it."""
    main = parse_file(path)
    return main, _Loader(None, []).splice(main, [observed.resolve(path)])


class _Loader:
    def __init__(
        self,
        resolve_parent: ParentResolver | None,
        codelist_dirs: list[Path],
        references: ReferenceResolver | None = None,
    ) -> None:
        self.resolve_parent = resolve_parent
        self.codelist_dirs = codelist_dirs
        self.references = references
        self.diagnostics: list[Diagnostic] = []
        self.files: list[ast.RulesFile] = []
        self.data_files: list[Path] = []
        self.data_versions: dict[str, str] = {}

    def load(self, path: Path, parsed: ast.RulesFile | None = None) -> Program:
        main = parsed if parsed is not None else parse_file(path)
        self.files.append(main)
        items = self.splice(main, [observed.resolve(path)])
        self.header(main)
        parents = self.parents(main)
        decls = _inherited(parents, main, self.diagnostics)
        checker = Checker(decls, self.codelist, self.table)
        checker.check(items)
        self.diagnostics.extend(checker.diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        if errors:
            raise RulesError(self.diagnostics)
        return Program(
            name=main.name or path.stem,
            version=main.version or "0",
            path=str(path),
            files=self.files,
            items=items,
            parents=parents,
            decls=decls,
            hash=self.fingerprint(parents),
            customers=main.customers,
            warnings=list(self.diagnostics),
            sources=[Path(f.src.path) for f in self.files] + self.data_files,
            references=dict(self.data_versions),
            profiles=main.profiles,
            resolve=self.resolve_parent,
        )

    # ---- includes

    def splice(self, rules_file: ast.RulesFile, stack: list[Path]) -> list[ast.Statement]:
        out: list[ast.Statement] = []
        for item in rules_file.items:
            if not isinstance(item, ast.Include):
                out.append(item)
                continue
            target = observed.resolve(rules_file.src.folder / item.source)
            if target in stack:
                chain = " → ".join(p.name for p in [*stack, target])
                self.diagnostics.append(at_node(rules_file.src, item, f"include cycle: {chain}"))
                continue
            if not observed.is_file(target):
                self.diagnostics.append(
                    at_node(rules_file.src, item, f"included file not found: {item.source}")
                )
                continue
            try:
                included = parse_file(target)
            except RulesError as exc:
                self.diagnostics.extend(exc.diagnostics)
                continue
            self.files.append(included)
            for header in included.items:
                if isinstance(header, ast.HeaderItem):
                    self.diagnostics.append(
                        at_node(
                            included.src,
                            header,
                            f"an included file cannot have '{header.key}': headers belong to the including ruleset",
                        )
                    )
            out.extend(
                i
                for i in self.splice(included, [*stack, target])
                if not isinstance(i, ast.HeaderItem)
            )
        return out

    # ---- header and extends

    def header(self, main: ast.RulesFile) -> None:
        seen: dict[str, ast.HeaderItem] = {}
        for item in main.items:
            if isinstance(item, ast.HeaderItem) and item.key in _SINGLE_HEADERS:
                if item.key in seen:
                    self.diagnostics.append(
                        at_node(
                            main.src,
                            item,
                            f"'{item.key}' is given twice (first on line {seen[item.key].line})",
                        )
                    )
                seen.setdefault(item.key, item)
        specs: dict[str, ast.HeaderItem] = {}
        for item in main.items:
            if isinstance(item, ast.HeaderItem) and item.key == "profile":
                spec = str(item.values[0]).strip()
                if not spec:
                    self.diagnostics.append(
                        at_node(
                            main.src,
                            item,
                            "a profile names the specification identifier (BT-24) it is for",
                        )
                    )
                elif spec in specs:
                    self.diagnostics.append(
                        at_node(
                            main.src,
                            item,
                            f'profile "{spec}" is given twice (first on line {specs[spec].line})',
                        )
                    )
                specs.setdefault(spec, item)
        if "ruleset" not in seen:
            first = main.items[0] if main.items else ast.Node(line=1, column=1)
            self.diagnostics.append(
                at_node(main.src, first, 'a ruleset file starts with its name: ruleset "name"')
            )

    def parents(self, main: ast.RulesFile) -> list[Program]:
        out: list[Program] = []
        for item in main.items:
            if not (isinstance(item, ast.HeaderItem) and item.key == "extends"):
                continue
            for name in item.values:
                if self.resolve_parent is None:
                    self.diagnostics.append(
                        at_node(
                            main.src,
                            item,
                            f'cannot extend "{name}": no ruleset folder is known here',
                        )
                    )
                    continue
                try:
                    out.append(self.resolve_parent(name))
                except LookupError as exc:
                    self.diagnostics.append(
                        at_node(
                            main.src,
                            item,
                            str(exc.args[0]) if exc.args else f'unknown ruleset "{name}"',
                        )
                    )
                except RulesError as exc:
                    count = len(exc.errors)
                    self.diagnostics.append(
                        at_node(
                            main.src,
                            item,
                            f'ruleset "{name}" has {count} error{"s" if count != 1 else ""}; run aiguillage check on it',
                        )
                    )
        return out

    # ---- data files

    def codelist(self, decl: ast.CodelistDecl) -> Codelist | str:
        assert decl.src is not None
        wanted = decl.source or f"{decl.name}.json"
        folders = ([decl.src.folder] if decl.source else []) + self.codelist_dirs
        for folder in folders:
            candidate = folder / wanted
            if observed.is_file(candidate):
                observed.content(candidate)
                self.data_files.append(candidate)
                try:
                    return load_codelist(decl.name, candidate)
                except RefDataError as exc:
                    return str(exc)
        looked = ", ".join(str(f) for f in folders) or "nowhere"
        return f"code list file not found: {wanted} (looked in {looked})"

    def table(self, decl: ast.TableDecl) -> Table | str:
        assert decl.src is not None
        if decl.source is None:
            return self.reference_table(decl)
        path = decl.src.folder / decl.source
        if not observed.is_file(path):
            return f"table file not found: {decl.source}"
        schema_path = decl.src.folder / decl.schema if decl.schema else None
        if schema_path is not None and not observed.is_file(schema_path):
            return f"schema file not found: {decl.schema}"
        for data_file in (path, schema_path):
            if data_file is not None:
                observed.content(data_file)
        self.data_files.extend(p for p in (path, schema_path) if p is not None)
        columns = (
            {c.name: (c.type_name, c.required) for c in decl.columns}
            if decl.columns is not None
            else None
        )
        try:
            return load_table(decl.name, path, decl.key, columns, schema_path)
        except RefDataError as exc:
            return f"table {decl.name}: {exc}"

    def reference_table(self, decl: ast.TableDecl) -> Table | str:
        """The tenant's table `decl.name` from the service, checked against the declared shape like a file."""
        if decl.schema is not None:
            return f'table {decl.name} is a reference table of the service: describe its columns with a shape block, not schema "{decl.schema}"'
        if self.references is None:
            return (
                f'table {decl.name} has no `from "file"`: it is the tenant\'s reference table {decl.name}, '
                "read from the service's database (/v1/tables) when the ruleset is published and evaluated; "
                "a ruleset run from files cannot read it (publish it to the service, or declare the table from a CSV or JSON file)"
            )
        observed.incomplete()  # the service's tables are not files: an outcome that read one is not kept
        data = self.references(decl.name)
        if data is None:
            return f"no reference table named {decl.name} in this tenant (create it with POST /v1/tables)"
        self.data_versions[decl.name] = data.version
        columns = (
            {c.name: (c.type_name, c.required) for c in decl.columns}
            if decl.columns is not None
            else None
        )
        try:
            return reference_table(data, decl.key, columns)
        except RefDataError as exc:
            message = str(exc)  # already names the reference table (and row, column)
            return (
                message
                if message.startswith(("table ", "reference table "))
                else f"table {decl.name}: {message}"
            )

    def fingerprint(self, parents: list[Program]) -> str:
        digest = hashlib.sha256(f"aiguillage-rules/{LANGUAGE_VERSION}\n".encode())
        for rules_file in self.files:
            digest.update(b"file\0" + rules_file.src.text.encode("utf-8") + b"\0")
        for data in self.data_files:
            digest.update(b"data\0" + data.read_bytes() + b"\0")
        for name, version in sorted(self.data_versions.items()):
            digest.update(b"reference\0" + f"{name}\0{version}".encode() + b"\0")
        for parent in parents:
            digest.update(b"parent\0" + parent.hash.encode() + b"\0")
        return digest.hexdigest()


def _inherited(
    parents: list[Program], main: ast.RulesFile, diagnostics: list[Diagnostic]
) -> Declarations:
    """Declarations and rule ids from everything extended; a rule id defined by two parents is an error."""
    decls = Declarations()
    seen: list[Program] = []
    for parent in parents:
        for program in parent.lineage():
            if any(p is program for p in seen):
                continue
            seen.append(program)
            decls.codelists.update(program.decls.codelists)
            decls.tables.update(program.decls.tables)
            for let in program.lets:
                decls.lets.setdefault(let.name, let)
            for param in program.params:
                if param.let is not None:
                    decls.params.setdefault(param.name, param)
            for rule in [*program.validate_rules, *program.enrich_rules]:
                rid = rule.id if isinstance(rule, ast.ValidateRule) else rule.name
                if rid in decls.inherited and decls.inherited[rid] != program.name:
                    extends = main.header("extends") or main
                    diagnostics.append(
                        at_node(
                            main.src,
                            extends,
                            f"rule {rid} is defined both in {decls.inherited[rid]} and in {program.name}",
                        )
                    )
                decls.inherited[rid] = program.name
                decls.rules[rid] = rule
    return decls
