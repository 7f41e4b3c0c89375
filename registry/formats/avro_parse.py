"""Avro schema JSON -> canonical tree, checking what Avro Java checks and naming the path.

``parse_tree(text, external, reference_names)`` decodes the JSON (errors give line and
column), walks it (errors give a JSON-pointer path such as ``/fields/2/type``) and returns the
canonical tree plus the named types it defines. Named types are fully qualified; a named type
appears in full the first time and by full name afterwards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from weir.core.errors import InvalidReferenceError, InvalidSchemaError
from weir.registry.formats.avro_canonical import PRIMITIVES, reorder_in_place, sorted_json
from weir.registry.formats.avro_defaults import default_problem

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ORDERS = ("ascending", "descending", "ignore")
_NAMED_KINDS = ("record", "error", "enum", "fixed")


@dataclass(frozen=True, slots=True)
class ParsedTree:
    """A walked schema."""

    tree: Any
    """The canonical tree (JSON-shaped: str, list or dict)."""
    named: dict[str, dict[str, Any]]
    """Named types this schema defines, by full name; the same objects as inside ``tree``."""


def load_json(text: str) -> Any:
    """Decode JSON text; raise InvalidSchemaError with line and column when it is malformed."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InvalidSchemaError(
            f"Schema is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            metadata={"line": str(exc.lineno), "column": str(exc.colno)},
        ) from None
    except ValueError as exc:
        raise InvalidSchemaError(f"Schema is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidSchemaError("Schema JSON is nested too deeply to parse") from None


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not allowed in JSON; write a number or a string")


def parse_tree(
    doc: Any, external: Mapping[str, dict[str, Any]], reference_names: frozenset[str]
) -> ParsedTree:
    """Walk a decoded schema. ``external`` holds named types from references, by full name."""
    walker = _Walker(external, reference_names)
    try:
        tree = walker.walk(doc, "", "")
        walker.check_defaults()
    except RecursionError:
        raise InvalidSchemaError("Schema is nested too deeply") from None
    return ParsedTree(tree, walker.named)


def fail(path: str, message: str) -> NoReturn:
    """Raise InvalidSchemaError for ``path`` (a JSON pointer into the schema)."""
    where = path or "/"
    raise InvalidSchemaError(f"Invalid Avro schema at {where}: {message}", metadata={"path": where})


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "an array", str: "a string", type(None): "null"}.get(
        type(value), "a number"
    )


class _Walker:
    def __init__(
        self, external: Mapping[str, dict[str, Any]], reference_names: frozenset[str]
    ) -> None:
        self.external = external
        self.reference_names = reference_names
        self.named: dict[str, dict[str, Any]] = {}
        self.defaults: list[tuple[str, Any, Any]] = []

    def walk(self, node: Any, path: str, space: str) -> Any:
        if isinstance(node, str):
            return node if node in PRIMITIVES else self.reference(node, path, space)
        if isinstance(node, list):
            return self.union(node, path, space)
        if isinstance(node, dict):
            return self.complex(node, path, space)
        fail(path, f"a type must be a name, an object or an array (union), not {_kind_of(node)}")

    def lookup(self, name: str, space: str) -> str | None:
        """Resolve a type name as Avro Java does: in the namespace, then unqualified."""
        candidates = [name] if "." in name or not space else [f"{space}.{name}", name]
        for full in candidates:
            if full in self.named or full in self.external:
                return full
        return None

    def resolve(self, full: str) -> dict[str, Any]:
        return self.named[full] if full in self.named else self.external[full]

    def reference(self, name: str, path: str, space: str) -> str:
        full = self.lookup(name, space)
        if full is not None:
            return full
        tried = name if "." in name or not space else f"{space}.{name}"
        if name in self.reference_names or tried in self.reference_names:
            raise InvalidReferenceError(
                f"Invalid Avro schema at {path or '/'}: the reference '{name}' does not define"
                f" a type named '{tried}'; check that the referenced schema declares it",
                metadata={"path": path or "/", "type": name},
            )
        hint = f" (looked for '{tried}' and '{name}')" if tried != name else ""
        fail(
            path,
            f"unknown type '{name}'{hint}; fix the spelling, define the type before it is used,"
            " or add a schema reference whose schema defines it",
        )

    def union(self, node: list[Any], path: str, space: str) -> list[Any]:
        out: list[Any] = []
        seen: dict[str, int] = {}
        for index, branch in enumerate(node):
            branch_path = f"{path}/{index}"
            if isinstance(branch, list):
                fail(branch_path, "a union may not directly contain another union")
            walked = self.walk(branch, branch_path, space)
            key = self.branch_key(walked)
            if key in seen:
                fail(branch_path, f"the union already has a '{key}' branch (at {seen[key]})")
            seen[key] = index
            out.append(walked)
        return out

    def branch_key(self, walked: Any) -> str:
        if isinstance(walked, str):
            return walked
        kind: str = walked["type"]
        return walked["name"] if kind in _NAMED_KINDS else kind

    def complex(self, node: dict[str, Any], path: str, space: str) -> Any:
        kind = node.get("type")
        if not isinstance(kind, str):
            found = "missing" if "type" not in node else _kind_of(kind)
            fail(path, f"the 'type' attribute must be a type name string; it is {found}")
        if kind in PRIMITIVES:
            props = {k: sorted_json(v) for k, v in node.items() if k != "type"}
            return reorder_in_place({"type": kind, **props}) if props else kind
        if kind in ("record", "error"):
            return self.record(node, path, space, kind)
        if kind == "enum":
            return self.enum(node, path, space)
        if kind == "fixed":
            return self.fixed(node, path, space)
        if kind in ("array", "map"):
            child = "items" if kind == "array" else "values"
            if child not in node:
                fail(path, f"an {kind} needs '{child}'")
            out = self.props(node, ("type", child))
            out.update(type=kind, **{child: self.walk(node[child], f"{path}/{child}", space)})
            return reorder_in_place(out)
        full = self.lookup(kind, space)
        if full is not None:
            return full
        return self.reference(kind, f"{path}/type", space)

    def props(self, node: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
        return {k: sorted_json(v) for k, v in node.items() if k not in known}

    def define(
        self, node: dict[str, Any], path: str, space: str, kind: str
    ) -> tuple[dict[str, Any], str]:
        """The header of a named type (name, namespace, aliases, doc); registers it."""
        name = node.get("name")
        if not isinstance(name, str):
            fail(path, f"a {kind} needs a 'name' string")
        if "." in name:
            own_space, _, simple = name.rpartition(".")
        else:
            raw = node.get("namespace")
            if raw is not None and not isinstance(raw, str):
                fail(f"{path}/namespace", f"a namespace must be a string, not {_kind_of(raw)}")
            own_space, simple = (space if raw is None else raw), name
        full = f"{own_space}.{simple}" if own_space else simple
        bad_space = bool(own_space) and not all(_NAME.match(p) for p in own_space.split("."))
        if bad_space or not _NAME.match(simple):
            where = f"{path}/namespace" if bad_space and "." not in name else f"{path}/name"
            fail(
                where,
                f"'{full}' is not a valid Avro name: each dot-separated part must start with a"
                " letter or '_' and contain only letters, digits and '_'",
            )
        if full in PRIMITIVES:
            fail(f"{path}/name", f"a {kind} may not be named after the primitive type '{full}'")
        if full in self.named or full in self.external:
            fail(f"{path}/name", f"the type '{full}' is already defined; names must be unique")
        out: dict[str, Any] = {"type": kind, "name": full}
        if not own_space and space:
            out["namespace"] = ""
        if "aliases" in node:
            out["aliases"] = self.aliases(node["aliases"], f"{path}/aliases", own_space, True)
        if "doc" in node:
            out["doc"] = node["doc"]
        self.named[full] = out
        return out, own_space

    def aliases(self, raw: Any, path: str, space: str, qualify: bool) -> list[str]:
        if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
            fail(path, "aliases must be an array of name strings")
        out = []
        for index, alias in enumerate(raw):
            parts = alias.split(".") if qualify else [alias]
            if not all(_NAME.match(part) for part in parts):
                fail(f"{path}/{index}", f"'{alias}' is not a valid alias name")
            out.append(f"{space}.{alias}" if qualify and space and "." not in alias else alias)
        return out

    def record(self, node: dict[str, Any], path: str, space: str, kind: str) -> dict[str, Any]:
        out, own_space = self.define(node, path, space, kind)
        raw_fields = node.get("fields")
        if not isinstance(raw_fields, list):
            fail(path, f"record '{out['name']}' needs a 'fields' array")
        fields: list[dict[str, Any]] = []
        out["fields"] = fields
        seen: dict[str, int] = {}
        for index, raw in enumerate(raw_fields):
            fields.append(self.field(raw, f"{path}/fields/{index}", own_space, seen))
            seen[fields[-1]["name"]] = index
        out.update(self.props(node, ("type", "name", "namespace", "aliases", "doc", "fields")))
        return reorder_in_place(out)

    def field(self, raw: Any, path: str, space: str, seen: dict[str, int]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            fail(path, f"a field must be an object, not {_kind_of(raw)}")
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            fail(f"{path}/name", f"field name {json.dumps(name)} is not a valid Avro name")
        if name in seen:
            fail(f"{path}/name", f"duplicate field name '{name}' (also field {seen[name]})")
        if "type" not in raw:
            fail(path, f"field '{name}' has no 'type'")
        field_type = self.walk(raw["type"], f"{path}/type", space)
        out: dict[str, Any] = {"name": name, "type": field_type}
        if "default" in raw:
            out["default"] = sorted_json(raw["default"])
            self.defaults.append((f"{path}/default", field_type, raw["default"]))
        if "order" in raw:
            if not isinstance(raw["order"], str) or raw["order"].lower() not in _ORDERS:
                fail(f"{path}/order", f"order must be one of {', '.join(_ORDERS)}")
            out["order"] = raw["order"]
        if "aliases" in raw:
            out["aliases"] = self.aliases(raw["aliases"], f"{path}/aliases", space, False)
        if "doc" in raw:
            out["doc"] = raw["doc"]
        out.update(self.props(raw, ("name", "type", "default", "order", "aliases", "doc")))
        return reorder_in_place(out)

    def enum(self, node: dict[str, Any], path: str, space: str) -> dict[str, Any]:
        out, _ = self.define(node, path, space, "enum")
        symbols = node.get("symbols")
        if not isinstance(symbols, list):
            fail(path, f"enum '{out['name']}' needs a 'symbols' array")
        seen: set[str] = set()
        for index, symbol in enumerate(symbols):
            if not isinstance(symbol, str) or not _NAME.match(symbol):
                fail(f"{path}/symbols/{index}", f"{json.dumps(symbol)} is not a valid symbol")
            if symbol in seen:
                fail(f"{path}/symbols/{index}", f"duplicate enum symbol '{symbol}'")
            seen.add(symbol)
        out["symbols"] = list(symbols)
        if "default" in node:
            if not isinstance(node["default"], str) or node["default"] not in seen:
                fail(f"{path}/default", "the enum default must be one of its symbols")
            out["default"] = node["default"]
        known = ("type", "name", "namespace", "aliases", "doc", "symbols", "default")
        out.update(self.props(node, known))
        return reorder_in_place(out)

    def fixed(self, node: dict[str, Any], path: str, space: str) -> dict[str, Any]:
        out, _ = self.define(node, path, space, "fixed")
        size = node.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            fail(f"{path}/size" if "size" in node else path, "a fixed needs a 'size' >= 0")
        out["size"] = size
        out.update(self.props(node, ("type", "name", "namespace", "aliases", "doc", "size")))
        return reorder_in_place(out)

    def check_defaults(self) -> None:
        for path, field_type, value in self.defaults:
            problem = default_problem(field_type, value, self.resolve)
            if problem:
                fail(path, f"the default does not match the field type: {problem}")
