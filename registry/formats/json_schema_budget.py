"""Keep JSON Schema validation within the request's time budget.

Without ``$ref`` a schema is a finite tree, and validating a document costs at most its size
times the document's. With ``$ref`` the unfolded tree can be exponential: forty definitions,
each an ``allOf`` of two references to the next, make 2**40 evaluations of one string.
Two guards follow from that:

* ``guarded_class(cls)``: the reference validator checks the request's deadline at every
  ``$ref`` (and ``$dynamicRef`` / ``$recursiveRef``), so any blow-up stops in time with a
  refusal naming ``validation_timeout_ms``;
* ``bounded_expansion(...)``: the compiled (Rust) fast path cannot be interrupted, so it is
  used only for schemas whose references form no cycle and unfold to at most
  ``MAX_EXPANSION`` nodes; other schemas are validated by the guarded reference validator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

from jsonschema import validators
from jsonschema.protocols import Validator
from referencing import Registry, Resource, Specification
from referencing.exceptions import Unresolvable

from weir.registry.formats.limits import check_deadline

MAX_EXPANSION = 50_000
"""Largest unfolded schema (nodes, references expanded) the fast path may validate."""
_REF_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")

Keyword = Callable[[Any, Any, Any, Any], Iterator[Any]]


def _guard(keyword: Keyword) -> Keyword:
    def guarded(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        check_deadline("JSON Schema validation")
        yield from keyword(validator, value, instance, schema)

    return guarded


@cache
def guarded_class(cls: type[Validator]) -> type[Validator]:
    """``cls`` with its reference keywords checking the request's deadline first."""
    found = {k: _guard(v) for k, v in cls.VALIDATORS.items() if k in _REF_KEYWORDS}
    guarded: type[Validator] = validators.extend(cls, found)  # type: ignore[no-untyped-call]
    return guarded


class _Unbounded(Exception):
    """The schema's references cycle or unfold too far."""


def bounded_expansion(
    root: Resource[Any], registry: Registry[Any], specification: Specification[Any]
) -> bool:
    """True when the references form no cycle and unfold to at most MAX_EXPANSION nodes."""
    sizes: dict[int, int] = {}
    path: set[int] = set()

    def visit(resource: Resource[Any], resolver: Any) -> int:
        contents = resource.contents
        key = id(contents)
        if key in sizes:
            return sizes[key]
        if key in path:
            raise _Unbounded
        path.add(key)
        resolver = resolver.in_subresource(resource)
        total = 1
        if isinstance(contents, Mapping):
            if any(isinstance(contents.get(k), str) for k in _REF_KEYWORDS[1:]):
                raise _Unbounded  # dynamic references: resolved only while validating
            ref = contents.get("$ref")
            if isinstance(ref, str):
                try:
                    resolved = resolver.lookup(ref)
                except Unresolvable:
                    raise _Unbounded from None
                target = specification.create_resource(resolved.contents)
                total += visit(target, resolved.resolver)
            for sub in resource.subresources():
                total += visit(sub, resolver)
        if total > MAX_EXPANSION:
            raise _Unbounded
        path.discard(key)
        sizes[key] = total
        return total

    try:
        visit(root, registry.resolver_with_root(root))
    except (_Unbounded, RecursionError):
        return False
    return True


__all__ = ["MAX_EXPANSION", "bounded_expansion", "guarded_class"]
