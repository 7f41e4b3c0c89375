"""Objects and arrays in Confluent's JSON Schema diff: properties, items and content models.

An object's content model is *open* when it has no ``patternProperties``, no schema for
``additionalProperties`` and does not forbid additional properties (nor, for 2019-09+,
constrain ``unevaluatedProperties``): unknown properties pass. It is *closed* with
``additionalProperties: false`` and *partially open* when a pattern or an additional-properties
schema decides what an unknown property may hold. Arrays follow the same idea for items past
the positional ones.
"""

from __future__ import annotations

from collections.abc import Callable

from weir.registry.compatibility.json_schema_context import Context, limit, token
from weir.registry.compatibility.json_schema_model import (
    ArrayNode,
    EmptyNode,
    FalseNode,
    Node,
    ObjectNode,
)
from weir.registry.formats.json_schema_patterns import PatternRefused, compile_pattern

_MATCH_TIMEOUT_S = 0.1
"""The longest one patternProperties match may run while comparing schemas."""

Compare = Callable[[Context, Node | None, Node | None], None]


def compare_object(
    ctx: Context, original: ObjectNode, update: ObjectNode, compare: Compare
) -> None:
    """Record the differences between two object schemas."""
    _required(ctx, original, update)
    with ctx.at("properties"):
        for name in sorted(original.properties.keys() | update.properties.keys()):
            with ctx.at(token(name)):
                _property(ctx, name, original, update, compare)
    _dependencies(ctx, original, update, compare)
    with ctx.at("additionalProperties"):
        _additional(
            ctx,
            "ADDITIONAL_PROPERTIES",
            (original.additional_allowed, original.additional_schema),
            (update.additional_allowed, update.additional_schema),
            compare,
        )
    _unevaluated(
        ctx, "unevaluatedProperties", "UNEVALUATED_PROPERTIES", original, update, compare=compare
    )
    _count(ctx, "maxProperties", "MAX_PROPERTIES", original.max_properties, update.max_properties)
    _count(ctx, "minProperties", "MIN_PROPERTIES", original.min_properties, update.min_properties)


def _count(ctx: Context, word: str, prefix: str, original: int | None, update: int | None) -> None:
    limit(ctx, word, prefix, original, update)


def _required(ctx: Context, original: ObjectNode, update: ObjectNode) -> None:
    with ctx.at("required"):
        for name in sorted(original.properties.keys() & update.properties.keys()):
            was, now = name in original.required, name in update.required
            if was and not now:
                ctx.add(
                    "REQUIRED_ATTRIBUTE_REMOVED", f"{name!r} is no longer required", token(name)
                )
            elif now and not was:
                has_default = update.properties[name].has_default
                rule = (
                    "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"
                    if has_default
                    else ("REQUIRED_ATTRIBUTE_ADDED")
                )
                ctx.add(rule, f"the reader schema makes {name!r} required", token(name))


def is_open(node: ObjectNode | ArrayNode) -> bool:
    """True when unknown properties (or extra items) pass unchecked."""
    if isinstance(node, ObjectNode) and node.pattern_properties:
        return False
    if not node.additional_allowed or node.additional_schema is not None:
        return False
    return node.unevaluated is None or isinstance(node.unevaluated, EmptyNode)


def partial_schema(node: ObjectNode | ArrayNode, name: str | None) -> Node | None:
    """The schema an unknown property ``name`` (or extra item) must match, if one decides."""
    if isinstance(node, ObjectNode) and name is not None:
        for pattern, schema in node.pattern_properties:
            try:  # bounded: a backtracking pattern from a schema must not stall the server
                if compile_pattern(pattern).search(name, timeout=_MATCH_TIMEOUT_S):
                    return schema
            except (PatternRefused, TimeoutError):
                continue
    if node.additional_schema is not None:
        return node.additional_schema
    uneval = node.unevaluated
    if node.additional_allowed and not isinstance(uneval, EmptyNode | FalseNode | None):
        return uneval
    return None


def _property(
    ctx: Context, name: str, original: ObjectNode, update: ObjectNode, compare: Compare
) -> None:
    old, new = original.properties.get(name), update.properties.get(name)
    if old is not None and new is not None:
        compare(ctx, old, new)
    elif old is not None:
        _removed(
            ctx, f"property {name!r}", old, update, name=name, kind="PROPERTY", compare=compare
        )
    elif new is not None:
        _added_property(ctx, name, new, original=original, update=update, compare=compare)


def _removed(
    ctx: Context,
    what: str,
    old: Node,
    update: ObjectNode | ArrayNode,
    *,
    name: str | None,
    kind: str,
    compare: Compare,
) -> None:
    """The writer has ``what`` and the reader does not: only the reader's model matters."""
    if is_open(update):
        ctx.add(f"{kind}_REMOVED_FROM_OPEN_CONTENT_MODEL", f"the reader schema drops {what}")
        return
    covering = partial_schema(update, name)
    if covering is not None:
        sub = ctx.sub()
        compare(sub, old, covering)
        ctx.extend(sub.diffs)
        state = "IS" if sub.compatible else "NOT"
        ctx.add(
            f"{kind}_REMOVED_{state}_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            f"the reader schema drops {what}; its additional/pattern schema "
            + ("accepts" if sub.compatible else "does not accept")
            + " what the writer allowed there",
        )
    elif isinstance(old, FalseNode):
        ctx.add(f"{kind}_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL", f"{what} was false")
    else:
        ctx.add(
            f"{kind}_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            f"the reader schema drops {what} and does not allow unknown ones",
        )


def _added_property(
    ctx: Context,
    name: str,
    new: Node,
    *,
    original: ObjectNode,
    update: ObjectNode,
    compare: Compare,
) -> None:
    """The reader has property ``name`` and the writer does not: the writer's model matters."""
    if is_open(original):
        if isinstance(new, EmptyNode):
            ctx.add(
                "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
                f"the reader schema adds {name!r} accepting any value",
            )
        else:
            ctx.add(
                "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
                f"the reader schema adds property {name!r}, but the writer schema's open "
                f"content model let {name!r} hold any value",
            )
        return
    covering = partial_schema(original, name)
    if covering is not None:
        sub = ctx.sub()
        compare(sub, covering, new)
        ctx.extend(sub.diffs)
        state = "IS" if sub.compatible else "NOT"
        ctx.add(
            f"PROPERTY_ADDED_{state}_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            f"the reader schema adds property {name!r}; the writer's additional/pattern "
            + ("schema fits it" if sub.compatible else "schema allowed values it rejects"),
        )
    if name in update.required:
        if new.has_default:
            rule = "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"
        else:
            rule = "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
        ctx.add(rule, f"the reader schema adds required property {name!r}")
    else:
        ctx.add(
            "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
            f"the reader schema adds optional property {name!r}",
        )


def _dependencies(ctx: Context, original: ObjectNode, update: ObjectNode, compare: Compare) -> None:
    with ctx.at("dependencies"):
        old_deps, new_deps = original.property_dependencies, update.property_dependencies
        for name in sorted(old_deps.keys() | new_deps.keys()):
            old, new = old_deps.get(name), new_deps.get(name)
            where = token(name)
            if new is None:
                ctx.add("DEPENDENCY_ARRAY_REMOVED", f"dependency of {name!r} removed", where)
            elif old is None:
                ctx.add(
                    "DEPENDENCY_ARRAY_ADDED", f"the reader adds a dependency of {name!r}", where
                )
            elif old != new:
                rule = (
                    "DEPENDENCY_ARRAY_EXTENDED"
                    if new >= old
                    else "DEPENDENCY_ARRAY_NARROWED"
                    if old >= new
                    else "DEPENDENCY_ARRAY_CHANGED"
                )
                ctx.add(rule, f"properties that {name!r} depends on changed", where)
        old_schemas, new_schemas = original.schema_dependencies, update.schema_dependencies
        for name in sorted(old_schemas.keys() | new_schemas.keys()):
            with ctx.at(token(name)):
                if name not in new_schemas:
                    ctx.add("DEPENDENCY_SCHEMA_REMOVED", f"schema dependency of {name!r} removed")
                elif name not in old_schemas:
                    ctx.add(
                        "DEPENDENCY_SCHEMA_ADDED",
                        f"the reader adds a schema dependency of {name!r}",
                    )
                else:
                    compare(ctx, old_schemas[name], new_schemas[name])


def _additional(
    ctx: Context,
    prefix: str,
    original: tuple[bool, Node | None],
    update: tuple[bool, Node | None],
    compare: Compare,
) -> None:
    """``additionalProperties`` / ``additionalItems``: allowed flag, then their schemas."""
    (old_allowed, old_schema), (new_allowed, new_schema) = original, update
    if old_allowed != new_allowed:
        if new_allowed:
            ctx.add(f"{prefix}_ADDED", "the reader schema allows additional values again")
        else:
            ctx.add(f"{prefix}_REMOVED", "the reader schema forbids additional values")
    elif old_schema is None and new_schema is not None:
        ctx.add(f"{prefix}_NARROWED", "the reader schema constrains additional values")
    elif new_schema is None and old_schema is not None:
        ctx.add(f"{prefix}_EXTENDED", "the reader schema no longer constrains additional values")
    else:
        compare(ctx, old_schema, new_schema)


def _unevaluated(
    ctx: Context,
    word: str,
    prefix: str,
    original: ObjectNode | ArrayNode,
    update: ObjectNode | ArrayNode,
    *,
    compare: Compare,
) -> None:
    old, new = original.unevaluated, update.unevaluated
    old_open = old is None or isinstance(old, EmptyNode)
    new_open = new is None or isinstance(new, EmptyNode)
    if old_open and new_open:
        return
    with ctx.at(word):
        if old_open:
            rule = "REMOVED" if isinstance(new, FalseNode) else "NARROWED"
            ctx.add(f"{prefix}_{rule}", f"the reader schema constrains {word}")
        elif new_open:
            rule = "ADDED" if isinstance(old, FalseNode) else "EXTENDED"
            ctx.add(f"{prefix}_{rule}", f"the reader schema no longer constrains {word}")
        elif isinstance(old, FalseNode) != isinstance(new, FalseNode):
            rule = "ADDED" if isinstance(old, FalseNode) else "REMOVED"
            ctx.add(f"{prefix}_{rule}", f"{word} changed between false and a schema")
        else:
            compare(ctx, old, new)


def compare_array(ctx: Context, original: ArrayNode, update: ArrayNode, compare: Compare) -> None:
    """Record the differences between two array schemas."""
    with ctx.at("items"):
        compare(ctx, original.all_items, update.all_items)
    _positional(ctx, original, update, compare)
    with ctx.at("additionalItems"):
        _additional(
            ctx,
            "ADDITIONAL_ITEMS",
            (original.additional_allowed, original.additional_schema),
            (update.additional_allowed, update.additional_schema),
            compare,
        )
    _unevaluated(ctx, "unevaluatedItems", "UNEVALUATED_ITEMS", original, update, compare=compare)
    _count(ctx, "maxItems", "MAX_ITEMS", original.max_items, update.max_items)
    _count(ctx, "minItems", "MIN_ITEMS", original.min_items, update.min_items)
    if original.unique_items != update.unique_items:
        rule = "UNIQUE_ITEMS_REMOVED" if original.unique_items else "UNIQUE_ITEMS_ADDED"
        ctx.add(rule, "uniqueItems changed", "uniqueItems")
    _count(ctx, "maxContains", "MAX_CONTAINS", original.max_contains, update.max_contains)
    _count(ctx, "minContains", "MIN_CONTAINS", original.min_contains, update.min_contains)


def _positional(ctx: Context, original: ArrayNode, update: ArrayNode, compare: Compare) -> None:
    old, new = original.item_schemas, update.item_schemas
    for index in range(max(len(old), len(new))):
        with ctx.at(
            update.tuple_keyword if index < len(new) else original.tuple_keyword, str(index)
        ):
            if index < len(old) and index < len(new):
                compare(ctx, old[index], new[index])
            elif index < len(old):
                _removed(
                    ctx,
                    f"item {index}",
                    old[index],
                    update,
                    name=None,
                    kind="ITEM",
                    compare=compare,
                )
            else:
                _added_item(ctx, index, new[index], original, compare)


def _added_item(ctx: Context, index: int, new: Node, original: ArrayNode, compare: Compare) -> None:
    if is_open(original):
        if isinstance(new, EmptyNode):
            ctx.add(
                "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
                f"item {index} accepts anything",
            )
        else:
            ctx.add(
                "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
                f"the reader schema constrains item {index}, which the writer left open",
            )
        return
    covering = partial_schema(original, None)
    if covering is None:
        ctx.add("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL", f"the reader schema adds item {index}")
        return
    sub = ctx.sub()
    compare(sub, covering, new)
    ctx.extend(sub.diffs)
    state = "IS" if sub.compatible else "NOT"
    ctx.add(
        f"ITEM_ADDED_{state}_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        f"the reader schema adds item {index}",
    )
