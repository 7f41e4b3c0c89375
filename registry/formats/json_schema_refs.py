"""``$ref`` resolution for JSON Schema: a referencing registry built from schema references.

A reference's name is the URL or file name a schema uses in ``$ref`` (``"address.json"``).
Each referenced schema is registered under that name, under the name resolved against the
root's ``$id`` when it has one, and under its own ``$id``. Every ``$ref`` in the root must
resolve at parse time; the error names the ref that does not.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from jsonschema_specifications import REGISTRY  # type: ignore[import-untyped]  # no py.typed
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable

from weir.core.errors import InvalidReferenceError


@dataclass(frozen=True, slots=True)
class RefDoc:
    """A referenced JSON schema ready to register."""

    name: str
    """The name used in ``$ref``."""
    resource: Resource[Any]
    """The schema's contents with its draft."""
    nested: tuple[RefDoc, ...]
    """The referenced schema's own references, registered too."""


METASCHEMAS: Registry[Any] = REGISTRY
"""The drafts' metaschemas, so a schema may ``$ref`` them."""


def build_registry(root: Resource[Any], refs: Sequence[RefDoc]) -> Registry[Any]:
    """A crawled registry of the metaschemas, every referenced schema (transitively), the root."""
    base = root.id() or ""
    registry: Registry[Any] = METASCHEMAS
    for doc in _flatten(refs, set()):
        for uri in _uris_for(doc, base):
            if uri not in registry:
                registry = registry.with_resource(uri, doc.resource)
    if base:
        registry = registry.with_resource(base, root)
    return registry.crawl()


def _flatten(refs: Sequence[RefDoc], seen: set[str]) -> Iterator[RefDoc]:
    for doc in refs:
        if doc.name in seen:
            continue
        seen.add(doc.name)
        yield doc
        yield from _flatten(doc.nested, seen)


def _uris_for(doc: RefDoc, base: str) -> list[str]:
    uris = [doc.name]
    if base:
        uris.append(urljoin(base, doc.name))
    own = doc.resource.id()
    if own:
        uris.append(own.rstrip("#"))
    return uris


def check_refs(root: Resource[Any], registry: Registry[Any], known: Sequence[str]) -> None:
    """Raise InvalidReferenceError for the first ``$ref`` in ``root`` that does not resolve."""
    _walk(root, registry.resolver_with_root(root), "", known)


def _walk(resource: Resource[Any], resolver: Any, path: str, known: Sequence[str]) -> None:
    resolver = resolver.in_subresource(resource)
    contents = resource.contents
    if not isinstance(contents, Mapping):
        return
    ref = contents.get("$ref")
    if isinstance(ref, str):
        try:
            resolver.lookup(ref)
        except Unresolvable as exc:
            raise _unresolved(ref, path or "/", exc, known) from None
    for key, child in _children(resource, contents):
        _walk(child, resolver, f"{path}/{key}", known)


def _children(resource: Resource[Any], contents: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Subresources paired with a JSON-pointer-ish key, for error locations."""
    subs = list(resource.subresources())
    located = _locate(contents)
    for sub in subs:
        yield located.get(id(sub.contents), "?"), sub


def _locate(contents: Mapping[str, Any]) -> dict[int, str]:
    """Map the identity of each direct child object to its relative pointer."""
    found: dict[int, str] = {}
    for key, value in contents.items():
        token = str(key).replace("~", "~0").replace("/", "~1")
        if isinstance(value, Mapping | bool):
            found.setdefault(id(value), token)
        if isinstance(value, list):
            for i, item in enumerate(value):
                found.setdefault(id(item), f"{token}/{i}")
        if isinstance(value, Mapping):
            for sub_key, item in value.items():
                sub = str(sub_key).replace("~", "~0").replace("/", "~1")
                found.setdefault(id(item), f"{token}/{sub}")
    return found


def _unresolved(
    ref: str, where: str, exc: Unresolvable, known: Sequence[str]
) -> InvalidReferenceError:
    names = ", ".join(repr(k) for k in known) or "none"
    document = ref.split("#", maxsplit=1)[0]
    if not document:
        hint = "nothing in this schema is at that JSON pointer or anchor; fix the $ref"
    elif type(exc).__name__ == "PointerToNowhere":
        hint = f"the schema referenced as {document!r} has nothing at that JSON pointer"
    else:
        hint = (
            f"no schema reference is named {document!r}; register the referenced schema "
            f"and pass it as a reference with that name (references given: {names})"
        )
    return InvalidReferenceError(
        f"{where}: $ref {ref!r} does not resolve: {hint}",
        metadata={"ref": ref, "path": where},
    )
