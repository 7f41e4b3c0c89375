"""Build the diff model (json_schema_model) from a parsed JsonSchema, following ``$ref``s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from referencing._core import Resolver
from referencing.exceptions import Unresolvable

from weir.registry.compatibility.json_schema_model import (
    ArrayNode,
    BooleanNode,
    CombinedNode,
    ConditionalNode,
    ConstNode,
    EmptyNode,
    EnumNode,
    FalseNode,
    Node,
    NotNode,
    NullNode,
    NumberNode,
    ObjectNode,
    RefNode,
    StringNode,
    canonical,
)
from weir.registry.formats.json_schema import JsonSchema
from weir.registry.formats.json_schema_drafts import Draft

STRING_KEYWORDS = frozenset({"minLength", "maxLength", "pattern", "format"})
NUMBER_KEYWORDS = frozenset(
    {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
)
OBJECT_KEYWORDS = frozenset(
    {
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
        "minProperties",
        "maxProperties",
        "dependencies",
        "dependentRequired",
        "dependentSchemas",
        "propertyNames",
        "unevaluatedProperties",
    }
)
ARRAY_KEYWORDS = frozenset(
    {
        "items",
        "additionalItems",
        "prefixItems",
        "minItems",
        "maxItems",
        "uniqueItems",
        "contains",
        "minContains",
        "maxContains",
        "unevaluatedItems",
    }
)
_KEYWORDS_BY_TYPE = {
    "string": STRING_KEYWORDS,
    "number": NUMBER_KEYWORDS,
    "integer": NUMBER_KEYWORDS,
    "object": OBJECT_KEYWORDS,
    "array": ARRAY_KEYWORDS,
}


def load(schema: JsonSchema) -> Node:
    """The model of ``schema``, with ``$ref``s resolved through its registry."""
    loader = _Loader(schema.draft)
    root = loader.load(schema.contents, schema.registry.resolver_with_root(schema.resource))
    loader.resolved[id(schema.contents)] = root  # "$ref": "#" is the root itself
    return root


class _Loader:
    """Loads schema objects; memoizes ``$ref`` targets so each is loaded once."""

    def __init__(self, draft: Draft) -> None:
        self.draft = draft.number
        self.specification = draft.specification
        self.resolved: dict[int, Node] = {}

    def load(self, raw: Any, resolver: Resolver[Any]) -> Node:
        """Load one schema object (or boolean schema)."""
        key = canonical(raw)
        if not isinstance(raw, Mapping):
            return FalseNode(key, False) if raw is False else EmptyNode(key, False)
        resolver = resolver.in_subresource(self.specification.create_resource(raw))
        return self._load_object(raw, resolver, key)

    def child(self, raw: Any, resolver: Resolver[Any]) -> Node:
        """Load a subschema."""
        return self.load(raw, resolver)

    def _load_object(self, raw: Mapping[str, Any], resolver: Resolver[Any], key: str) -> Node:
        has_default = "default" in raw
        nodes: list[Node] = []
        ref = raw.get("$ref")
        if isinstance(ref, str):
            nodes.append(self._ref(ref, resolver, key, has_default))
            if self.draft < 2019:
                return nodes[0]
        if "enum" in raw and isinstance(raw["enum"], list):
            values = frozenset(canonical(v) for v in raw["enum"])
            nodes.append(EnumNode(f"enum:{key}", has_default, values))
        for criterion in ("allOf", "anyOf", "oneOf"):
            if isinstance(raw.get(criterion), list):
                subs = tuple(self.child(s, resolver) for s in raw[criterion])
                nodes.append(CombinedNode(f"{criterion}:{key}", has_default, criterion, subs))
        if "not" in raw:
            must_not = self.child(raw["not"], resolver)
            nodes.append(NotNode(f"not:{key}", has_default, must_not))
        if "const" in raw and self.draft >= 6:
            nodes.append(ConstNode(f"const:{key}", has_default, canonical(raw["const"])))
        consumed: set[str] = set()
        declared = raw.get("type")
        types = [declared] if isinstance(declared, str) else declared
        if isinstance(types, list):
            typed = []
            for name in types:
                consumed |= _KEYWORDS_BY_TYPE.get(name, frozenset())
                typed.append(self._typed(name, raw, resolver, f"{name}:{key}", has_default))
            if len(typed) == 1:
                nodes.append(typed[0])
            else:
                nodes.append(CombinedNode(f"type:{key}", has_default, "anyOf", tuple(typed)))
        present = set(raw) - consumed
        for name, words in (
            ("array", ARRAY_KEYWORDS),
            ("object", OBJECT_KEYWORDS),
            ("number", NUMBER_KEYWORDS),
            ("string", STRING_KEYWORDS),
        ):
            if present & words:
                nodes.append(self._typed(name, raw, resolver, f"~{name}:{key}", has_default))
        if self.draft >= 7 and present & {"if", "then", "else"}:
            nodes.append(ConditionalNode(f"if:{key}", has_default))
        if not nodes:
            return EmptyNode(key, has_default)
        if len(nodes) == 1:
            return nodes[0]
        return CombinedNode(key, has_default, "allOf", tuple(nodes))

    def _ref(self, ref: str, resolver: Resolver[Any], key: str, has_default: bool) -> RefNode:
        def resolve() -> Node:
            try:
                resolved = resolver.lookup(ref)
            except Unresolvable:
                return EmptyNode(f"unresolved:{ref}", False)
            memo = id(resolved.contents)  # contents live in the registry, so ids are stable
            if memo not in self.resolved:
                self.resolved[memo] = self.load(resolved.contents, resolved.resolver)
            return self.resolved[memo]

        return RefNode(key, has_default, ref, resolve)

    def _typed(
        self, name: str, raw: Mapping[str, Any], resolver: Resolver[Any], key: str, default: bool
    ) -> Node:
        if name == "string":
            return StringNode(
                key, default, _int(raw, "minLength"), _int(raw, "maxLength"), _str(raw, "pattern")
            )
        if name in ("number", "integer"):
            return NumberNode(
                key,
                default,
                name == "integer",
                _num(raw, "minimum"),
                _num(raw, "maximum"),
                _num(raw, "exclusiveMinimum"),
                _num(raw, "exclusiveMaximum"),
                _num(raw, "multipleOf"),
            )
        if name == "object":
            return self._object(raw, resolver, key, default)
        if name == "array":
            return self._array(raw, resolver, key, default)
        if name == "boolean":
            return BooleanNode(key, default)
        if name == "null":
            return NullNode(key, default)
        return EmptyNode(key, default)

    def _object(
        self, raw: Mapping[str, Any], resolver: Resolver[Any], key: str, default: bool
    ) -> ObjectNode:
        props = raw.get("properties")
        properties = (
            {k: self.child(v, resolver) for k, v in props.items()}
            if isinstance(props, Mapping)
            else {}
        )
        additional = raw.get("additionalProperties", True)
        patterns = raw.get("patternProperties")
        pattern_properties = (
            tuple((k, self.child(v, resolver)) for k, v in patterns.items())
            if isinstance(patterns, Mapping)
            else ()
        )
        property_deps: dict[str, frozenset[str]] = {}
        schema_deps: dict[str, Node] = {}
        for word in ("dependencies", "dependentRequired", "dependentSchemas"):
            deps = raw.get(word)
            if not isinstance(deps, Mapping):
                continue
            for prop, dep in deps.items():
                if isinstance(dep, list) and word != "dependentSchemas":
                    property_deps[prop] = frozenset(str(d) for d in dep)
                elif word != "dependentRequired":
                    schema_deps[prop] = self.child(dep, resolver)
        required = raw.get("required")
        return ObjectNode(
            key,
            default,
            properties=properties,
            required=frozenset(required) if isinstance(required, list) else frozenset(),
            additional_allowed=additional is not False,
            additional_schema=(
                self.child(additional, resolver) if isinstance(additional, Mapping) else None
            ),
            pattern_properties=pattern_properties,
            unevaluated=self._optional(raw, "unevaluatedProperties", resolver),
            property_dependencies=property_deps,
            schema_dependencies=schema_deps,
            min_properties=_int(raw, "minProperties"),
            max_properties=_int(raw, "maxProperties"),
        )

    def _array(
        self, raw: Mapping[str, Any], resolver: Resolver[Any], key: str, default: bool
    ) -> ArrayNode:
        items = raw.get("items")
        prefix = raw.get("prefixItems") if self.draft >= 2020 else None
        if isinstance(prefix, list):
            positional = tuple(self.child(s, resolver) for s in prefix)
            tuple_keyword, rest, all_items = "prefixItems", items, None
        elif isinstance(items, list):
            positional = tuple(self.child(s, resolver) for s in items)
            tuple_keyword, rest, all_items = "items", raw.get("additionalItems"), None
        else:
            positional, tuple_keyword, rest = (), "items", raw.get("additionalItems")
            all_items = None if items is None else self.child(items, resolver)
        return ArrayNode(
            key,
            default,
            all_items=all_items,
            item_schemas=positional,
            tuple_keyword=tuple_keyword,
            additional_allowed=rest is not False,
            additional_schema=self.child(rest, resolver) if isinstance(rest, Mapping) else None,
            unevaluated=self._optional(raw, "unevaluatedItems", resolver),
            min_items=_int(raw, "minItems"),
            max_items=_int(raw, "maxItems"),
            unique_items=raw.get("uniqueItems") is True,
            min_contains=_int(raw, "minContains"),
            max_contains=_int(raw, "maxContains"),
        )

    def _optional(self, raw: Mapping[str, Any], word: str, resolver: Resolver[Any]) -> Node | None:
        return self.child(raw[word], resolver) if word in raw else None


def _int(raw: Mapping[str, Any], word: str) -> int | None:
    value = raw.get(word)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _num(raw: Mapping[str, Any], word: str) -> float | None:
    value = raw.get(word)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _str(raw: Mapping[str, Any], word: str) -> str | None:
    value = raw.get(word)
    return value if isinstance(value, str) else None
