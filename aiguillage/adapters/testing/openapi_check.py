"""Judge HTTP requests and answers against an OpenAPI 3.0 description, for loopback servers built from one.

A loopback PA is only worth testing against if it refuses what the real
interface refuses, so every request is matched to an operation of the
published description (path template, method), and its security, path,
query and header parameters and body (JSON or multipart parts, with the
part media types the `encoding` names) are checked; answers the server
builds are checked the same way. Schemas are judged by
`openapi-schema-validator` (OpenAPI 3.0 dialect: `nullable`, formats),
resolving `$ref`s inside the description through `referencing`.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import openapi_schema_validator as osv
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

_BASE = "urn:openapi-under-test"


class SpecViolation(Exception):
    """A request or answer the description does not allow; `status` is what a strict server answers."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Operation:
    """One method on one path template."""

    method: str
    template: str
    pattern: re.Pattern[str]
    names: list[str]
    spec: dict[str, Any]
    parameters: list[dict[str, Any]]

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId") or f"{self.method} {self.template}")


@dataclass
class CheckedRequest:
    """What a request carried once matched and judged: parameters by name, body as JSON or parts."""

    operation: Operation
    path_params: dict[str, str]
    query: dict[str, str]
    json: Any = None
    parts: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    bearer: str | None = None


class OpenApiDescription:
    """`OpenApiDescription(path).check_request(method, target, headers, body)` → `CheckedRequest` or `SpecViolation`."""

    def __init__(self, source: Path | str | dict[str, Any]) -> None:
        self.document: dict[str, Any] = (source if isinstance(source, dict)
                                         else json.loads(Path(source).read_text(encoding="utf-8")))
        resource = Resource.from_contents(self.document, default_specification=DRAFT4)
        self._registry: Registry = Registry().with_resource(_BASE, resource)
        self.operations: list[Operation] = []
        for template, item in self.document.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method, spec in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                pattern, names = _compile(template)
                parameters = [self.resolve(p) for p in [*shared, *spec.get("parameters", [])]]
                self.operations.append(Operation(method.upper(), template, pattern, names, spec, parameters))

    # ------------------------------------------------------------------ helpers

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """Follow a local `$ref` (components) to what it names."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"only local $ref are supported: {ref}")
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def schema_errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        """Every way `instance` breaks `schema` (OpenAPI 3.0 dialect), as `pointer: message` lines."""
        document = dict(self.document, __schema__=schema)
        registry = Registry().with_resource(_BASE, Resource.from_contents(document, default_specification=DRAFT4))
        validator = osv.OAS30Validator({"$ref": f"{_BASE}#/__schema__"}, registry=registry,
                                       format_checker=osv.OAS30Validator.FORMAT_CHECKER)
        return [f"/{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
                for error in validator.iter_errors(instance)]

    def _check(self, schema: dict[str, Any], instance: Any, where: str) -> None:
        errors = self.schema_errors(schema, instance)
        if errors:
            raise SpecViolation(f"{where}: " + "; ".join(errors[:5]))

    # ------------------------------------------------------------------ requests

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        """The operation for `method path`; 404 if no template matches, 405 if the method is not there."""
        found_path = False
        for operation in self.operations:
            hit = operation.pattern.fullmatch(path)
            if hit is None:
                continue
            found_path = True
            if operation.method == method:
                values = {name: urllib.parse.unquote(hit.group(f"p{i}")) for i, name in enumerate(operation.names)}
                return operation, values
        if found_path:
            raise SpecViolation(f"{method} is not an operation on {path}", 405)
        raise SpecViolation(f"no path of the description matches {path}", 404)

    def check_request(self, method: str, target: str, headers: dict[str, str], body: bytes) -> CheckedRequest:
        """Match and judge one request; headers with lower-case names."""
        split = urllib.parse.urlsplit(target)
        operation, path_params = self.match(method, split.path)
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        checked = CheckedRequest(operation, path_params, query, bearer=self._check_security(operation, headers))
        for parameter in operation.parameters:
            where, name = parameter["in"], parameter["name"]
            source = {"path": path_params, "query": query, "header": headers}.get(where, {})
            key = name.lower() if where == "header" else name
            if key not in source:
                if parameter.get("required"):
                    raise SpecViolation(f"missing required {where} parameter {name!r}")
                continue
            value = _coerce(self.resolve(parameter.get("schema", {})), source[key])
            self._check(parameter.get("schema", {}), value, f"{where} parameter {name!r}")
        request_body = operation.spec.get("requestBody")
        if request_body is not None:
            self._check_body(checked, self.resolve(request_body), headers, body)
        elif body:
            raise SpecViolation(f"{operation.operation_id} takes no body")
        return checked

    def _check_security(self, operation: Operation, headers: dict[str, str]) -> str | None:
        requirements = operation.spec.get("security", self.document.get("security", []))
        if not requirements:
            return None
        schemes = self.document.get("components", {}).get("securitySchemes", {})
        authorization = headers.get("authorization", "")
        for requirement in requirements:
            for name in requirement:
                scheme = schemes.get(name, {})
                bearer_kind = (scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer") \
                    or scheme.get("type") == "oauth2"
                if bearer_kind and authorization[:7].lower() == "bearer " and authorization[7:].strip():
                    return authorization[7:].strip()
        raise SpecViolation("no credentials the description accepts (Authorization: Bearer …)", 401)

    def _check_body(self, checked: CheckedRequest, spec: dict[str, Any], headers: dict[str, str], body: bytes) -> None:
        content_type = headers.get("content-type", "")
        media = content_type.split(";")[0].strip().lower()
        content = spec.get("content", {})
        if not body:
            if spec.get("required") or media:
                raise SpecViolation("a request body is required")
            return
        if media not in content:
            raise SpecViolation(f"media type {media or '(none)'} not accepted here; expected {', '.join(content)}", 415)
        entry = content[media]
        schema = entry.get("schema", {})
        if media == "application/json":
            try:
                checked.json = json.loads(body)
            except ValueError as exc:
                raise SpecViolation(f"body is not JSON: {exc}") from None
            self._check(schema, checked.json, "body")
        elif media == "multipart/form-data":
            checked.parts = _multipart(content_type, body)
            self._check_parts(checked, self.resolve(schema), entry.get("encoding", {}))

    def _check_parts(self, checked: CheckedRequest, schema: dict[str, Any], encoding: dict[str, Any]) -> None:
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in checked.parts:
                raise SpecViolation(f"multipart body lacks the required part {name!r}")
        for name, (part_type, data) in checked.parts.items():
            if name not in properties:
                raise SpecViolation(f"multipart part {name!r} is not in the description")
            allowed = [t.strip() for t in encoding.get(name, {}).get("contentType", "").split(",") if t.strip()]
            if allowed and part_type.split(";")[0].strip().lower() not in allowed:
                raise SpecViolation(f"part {name!r} has media type {part_type!r}; expected {', '.join(allowed)}")
            prop = self.resolve(properties[name])
            if prop.get("format") == "binary":
                continue
            try:
                value = json.loads(data)
            except ValueError as exc:
                raise SpecViolation(f"part {name!r} is not JSON: {exc}") from None
            self._check(properties[name], value, f"part {name!r}")
            if name == "flowInfo" or checked.json is None:
                checked.json = value

    # ------------------------------------------------------------------ answers

    def check_response(self, operation: Operation, status: int, content_type: str, body: bytes) -> None:
        """Judge an answer the server is about to give; raises `SpecViolation` (status 500) if the description forbids it."""
        responses = operation.spec.get("responses", {})
        spec = responses.get(str(status)) or responses.get("default")
        if spec is None:
            raise SpecViolation(f"{operation.operation_id} may not answer {status}", 500)
        content = self.resolve(spec).get("content", {})
        if not content:
            return
        media = content_type.split(";")[0].strip().lower()
        if media not in content:
            raise SpecViolation(f"{operation.operation_id} {status} may not answer {media}", 500)
        schema = content[media].get("schema")
        if schema and media == "application/json":
            try:
                instance = json.loads(body)
            except ValueError:
                raise SpecViolation(f"{operation.operation_id} {status}: answer is not JSON", 500) from None
            errors = self.schema_errors(schema, instance)
            if errors:
                raise SpecViolation(f"{operation.operation_id} {status} answer: " + "; ".join(errors[:5]), 500)

    def check_callback(self, operation_id: str, callback: str, headers: dict[str, str], body: bytes) -> None:
        """Judge a callback the server sends (e.g. the webhook event) against its description."""
        operation = next(op for op in self.operations if op.operation_id == operation_id)
        callbacks = self.resolve(operation.spec["callbacks"][callback])
        _, item = next(iter(callbacks.items()))
        spec = item["post"]
        for parameter in spec.get("parameters", []):
            value = headers.get(parameter["name"])
            if value is None:
                if parameter.get("required"):
                    raise SpecViolation(f"callback lacks header {parameter['name']}", 500)
                continue
            self._check(parameter.get("schema", {}), _coerce(self.resolve(parameter.get("schema", {})), value),
                        f"callback header {parameter['name']}")
        schema = self.resolve(spec["requestBody"])["content"]["application/json"]["schema"]
        self._check(schema, json.loads(body), "callback body")


def _compile(template: str) -> tuple[re.Pattern[str], list[str]]:
    names: list[str] = []
    pattern = ""
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{") and piece.endswith("}"):
            pattern += f"(?P<p{len(names)}>[^/]+)"
            names.append(piece[1:-1])
        else:
            pattern += re.escape(piece)
    return re.compile(pattern), names


def _coerce(schema: dict[str, Any], value: str) -> Any:
    """Query, path and header values are text; read them as the schema's type before judging them."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    except ValueError:
        return value
    return value


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str, bytes]]:
    """Parts of a multipart/form-data body by name: (media type, bytes)."""
    if "boundary=" not in content_type:
        raise SpecViolation("multipart body without a boundary")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise SpecViolation("body is not multipart")
    parts: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            raise SpecViolation("a multipart part has no name")
        if name in parts:
            raise SpecViolation(f"multipart part {name!r} appears twice")
        payload = part.get_payload(decode=True) or b""
        parts[str(name)] = (part.get_content_type() if part.get("content-type") else "text/plain", payload)
    return parts
