"""Confluent's JSON Schema diff: compare an original (writer) schema with an update (reader).

``compare(ctx, original, update)`` walks both models together and records every
difference in ``ctx`` under Confluent's Difference.Type names. Objects and arrays live in
json_schema_diff_containers; this module has the dispatch, scalars, enums, ``not`` and the
combined (``allOf``/``anyOf``/``oneOf``) matching.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from weir.registry.compatibility import json_schema_diff_containers as containers
from weir.registry.compatibility.json_schema_context import Context, Difference, limit
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
)

_SUM = ("anyOf", "oneOf")


def compare(ctx: Context, original: Node | None, update: Node | None) -> None:
    """Record how ``update`` differs from ``original`` at the context's path."""
    if original is None and update is None:
        return
    if original is None:
        ctx.add("SCHEMA_ADDED", "the reader schema adds a subschema the writer schema lacks")
        return
    if update is None:
        ctx.add("SCHEMA_REMOVED", "the reader schema drops a subschema of the writer schema")
        return
    original, update = deref(original), deref(update)
    ctx.memoized(original, update, lambda c: _compare_nodes(c, original, update))


def deref(node: Node) -> Node:
    """Follow ``$ref``s to the schema they name; a ref loop stands for any value."""
    seen: set[int] = set()
    while isinstance(node, RefNode):
        if id(node) in seen:
            return EmptyNode(node.key, node.has_default)
        seen.add(id(node))
        node = node.target
    return node


def describe(node: Node) -> str:
    """A short name for a schema's kind, for messages."""
    if isinstance(node, NumberNode):
        return "integer" if node.requires_integer else "number"
    if isinstance(node, CombinedNode):
        return node.criterion
    names: dict[type[Node], str] = {
        StringNode: "string",
        BooleanNode: "boolean",
        NullNode: "null",
        ObjectNode: "object",
        ArrayNode: "array",
        EnumNode: "enum",
        ConstNode: "const",
        NotNode: "not",
        EmptyNode: "any value",
        FalseNode: "no value",
        ConditionalNode: "if/then/else",
    }
    return names.get(type(node), type(node).__name__)


def _compare_nodes(ctx: Context, original: Node, update: Node) -> None:
    if not isinstance(original, CombinedNode) and isinstance(update, CombinedNode):
        if _into_update_union(ctx, original, update):
            return
    elif (
        isinstance(original, CombinedNode)
        and not isinstance(update, CombinedNode)
        and len(original.subschemas) == 1
    ):
        sub = ctx.sub()
        compare(sub, original.subschemas[0], update)
        if sub.compatible:
            ctx.extend(sub.diffs)
            return
    if type(original) is not type(update):
        if isinstance(original, FalseNode) or isinstance(update, EmptyNode):
            return
        ctx.add(
            "TYPE_CHANGED",
            f"the type changed from {describe(original)} (writer) to {describe(update)} (reader)",
        )
        return
    if isinstance(original, StringNode) and isinstance(update, StringNode):
        _string(ctx, original, update)
    elif isinstance(original, NumberNode) and isinstance(update, NumberNode):
        _number(ctx, original, update)
    elif isinstance(original, EnumNode) and isinstance(update, EnumNode):
        _enum(ctx, original, update)
    elif isinstance(original, ConstNode) and isinstance(update, ConstNode):
        if original.value != update.value:
            ctx.add(
                "ENUM_ARRAY_CHANGED",
                f"const changed from {original.value} to {update.value}",
                "const",
            )
    elif isinstance(original, CombinedNode) and isinstance(update, CombinedNode):
        _combined(ctx, original, update)
    elif isinstance(original, NotNode) and isinstance(update, NotNode):
        _not(ctx, original, update)
    elif isinstance(original, ObjectNode) and isinstance(update, ObjectNode):
        containers.compare_object(ctx, original, update, compare)
    elif isinstance(original, ArrayNode) and isinstance(update, ArrayNode):
        containers.compare_array(ctx, original, update, compare)


def _into_update_union(ctx: Context, original: Node, update: CombinedNode) -> bool:
    """A plain writer schema is fine when a reader union has a compatible branch for it."""
    if len(update.subschemas) == 1:
        sub = ctx.sub()
        compare(sub, original, update.subschemas[0])
        if sub.compatible:
            ctx.extend(sub.diffs)
            return True
    elif update.criterion in _SUM:
        for branch in update.subschemas:
            sub = ctx.sub()
            compare(sub, original, branch)
            if sub.compatible:
                ctx.extend(sub.diffs)
                ctx.add(
                    "SUM_TYPE_EXTENDED", f"the reader schema wraps the type in {update.criterion}"
                )
                return True
    return False


def _string(ctx: Context, original: StringNode, update: StringNode) -> None:
    limit(ctx, "maxLength", "MAX_LENGTH", original.max_length, update.max_length)
    limit(ctx, "minLength", "MIN_LENGTH", original.min_length, update.min_length)
    if original.pattern == update.pattern:
        return
    if original.pattern is None:
        ctx.add("PATTERN_ADDED", f"the reader schema adds pattern {update.pattern!r}", "pattern")
    elif update.pattern is None:
        ctx.add(
            "PATTERN_REMOVED", f"the reader schema drops pattern {original.pattern!r}", "pattern"
        )
    else:
        ctx.add(
            "PATTERN_CHANGED",
            f"pattern changed from {original.pattern!r} to {update.pattern!r}",
            "pattern",
        )


def _number(ctx: Context, original: NumberNode, update: NumberNode) -> None:
    limit(ctx, "maximum", "MAXIMUM", original.maximum, update.maximum)
    limit(ctx, "minimum", "MINIMUM", original.minimum, update.minimum)
    limit(
        ctx,
        "exclusiveMaximum",
        "EXCLUSIVE_MAXIMUM",
        original.exclusive_maximum,
        update.exclusive_maximum,
    )
    limit(
        ctx,
        "exclusiveMinimum",
        "EXCLUSIVE_MINIMUM",
        original.exclusive_minimum,
        update.exclusive_minimum,
    )
    _multiple_of(ctx, original.multiple_of, update.multiple_of)
    if original.requires_integer and not update.requires_integer:
        ctx.add("TYPE_EXTENDED", "the type widened from integer to number")
    elif update.requires_integer and not original.requires_integer:
        ctx.add("TYPE_NARROWED", "the type narrowed from number to integer")


def _multiple_of(ctx: Context, original: float | None, update: float | None) -> None:
    if original == update:
        return
    if original is None:
        ctx.add("MULTIPLE_OF_ADDED", f"the reader schema adds multipleOf {update}", "multipleOf")
        return
    if update is None:
        ctx.add(
            "MULTIPLE_OF_REMOVED", f"the reader schema drops multipleOf {original}", "multipleOf"
        )
        return
    try:
        old, new = Decimal(str(original)), Decimal(str(update))
        expanded, reduced = new % old == 0, old % new == 0
    except (InvalidOperation, ZeroDivisionError):
        expanded = reduced = False
    rule = "MULTIPLE_OF_EXPANDED" if expanded else "MULTIPLE_OF_REDUCED" if reduced else None
    ctx.add(
        rule or "MULTIPLE_OF_CHANGED",
        f"multipleOf changed from {original} to {update}",
        "multipleOf",
    )


def _enum(ctx: Context, original: EnumNode, update: EnumNode) -> None:
    if original.values == update.values:
        return
    if update.values >= original.values:
        added = ", ".join(sorted(update.values - original.values))
        ctx.add("ENUM_ARRAY_EXTENDED", f"the reader schema allows more values: {added}", "enum")
    elif original.values >= update.values:
        removed = ", ".join(sorted(original.values - update.values))
        ctx.add("ENUM_ARRAY_NARROWED", f"the reader schema no longer allows {removed}", "enum")
    else:
        removed = ", ".join(sorted(original.values - update.values))
        ctx.add("ENUM_ARRAY_CHANGED", f"the reader schema no longer allows {removed}", "enum")


def _not(ctx: Context, original: NotNode, update: NotNode) -> None:
    with ctx.at("not"):
        sub = ctx.sub()
        compare(sub, update.must_not, original.must_not)
        if sub.compatible:
            ctx.add("NOT_TYPE_NARROWED", "the reader schema forbids no more than the writer schema")
        else:
            ctx.add("NOT_TYPE_EXTENDED", "the reader schema's not-schema rules out more values")


def _criteria(ctx: Context, original: CombinedNode, update: CombinedNode) -> str | None:
    old, new = original.criterion, update.criterion
    if old == new:
        return None
    single_old, single_new = len(original.subschemas) == 1, len(update.subschemas) == 1
    if new == "anyOf" or (new == "oneOf" and single_old) or (single_old and single_new):
        rule = "COMBINED_TYPE_EXTENDED"
    else:
        rule = "COMBINED_TYPE_CHANGED"
    ctx.add(rule, f"the combination changed from {old} to {new}")
    return rule


def _unique(nodes: tuple[Node, ...]) -> list[Node]:
    seen: dict[str, Node] = {}
    for node in nodes:
        seen.setdefault(node.key, node)
    return list(seen.values())


def _combined(ctx: Context, original: CombinedNode, update: CombinedNode) -> None:
    if _criteria(ctx, original, update) == "COMBINED_TYPE_CHANGED":
        return
    old, new = _unique(original.subschemas), _unique(update.subschemas)
    product = update.criterion == "allOf"
    if len(old) < len(new):
        rule = "PRODUCT_TYPE_EXTENDED" if product else "SUM_TYPE_EXTENDED"
        ctx.add(rule, f"{update.criterion} grew from {len(old)} to {len(new)} subschemas")
    elif len(old) > len(new):
        rule = "PRODUCT_TYPE_NARROWED" if product else "SUM_TYPE_NARROWED"
        ctx.add(rule, f"{update.criterion} shrank from {len(old)} to {len(new)} subschemas")
    edges: dict[tuple[int, int], list[Difference]] = {}
    closest: dict[int, tuple[tuple[bool, int], Difference]] = {}
    for i, writer_sub in enumerate(old):
        with ctx.at(original.criterion, str(i)):
            for j, reader_sub in enumerate(new):
                sub = ctx.sub()
                compare(sub, writer_sub, reader_sub)
                if sub.compatible:
                    edges[(i, j)] = sub.diffs
                else:
                    breaking = [d for d in sub.diffs if not d.compatible]
                    rank = (breaking[0].rule == "TYPE_CHANGED", len(breaking))
                    if i not in closest or rank < closest[i][0]:
                        closest[i] = (rank, breaking[0])
    matching = max_matching(set(edges), len(old))
    for pair in sorted(matching):
        ctx.extend(edges[pair])
    if len(matching) < min(len(old), len(new)):
        matched = {i for i, _ in matching}
        hints = [closest[i][1] for i in range(len(old)) if i not in matched and i in closest]
        hint = (
            f" (closest: {hints[0].rule} at {hints[0].pointer}: {hints[0].message})"
            if hints
            else ""
        )
        ctx.add(
            "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
            f"only {len(matching)} of the writer's {original.criterion} subschemas pair off "
            f"with a compatible reader subschema{hint}",
        )


def max_matching(edges: set[tuple[int, int]], left: int) -> set[tuple[int, int]]:
    """A maximum-cardinality bipartite matching (augmenting paths)."""
    adjacent: dict[int, list[int]] = {i: sorted(j for a, j in edges if a == i) for i in range(left)}
    owner: dict[int, int] = {}

    def augment(i: int, visited: set[int]) -> bool:
        for j in adjacent[i]:
            if j in visited:
                continue
            visited.add(j)
            if j not in owner or augment(owner[j], visited):
                owner[j] = i
                return True
        return False

    for i in range(left):
        augment(i, set())
    return {(i, j) for j, i in owner.items()}
