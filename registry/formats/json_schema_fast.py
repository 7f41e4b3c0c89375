"""A compiled (Rust) JSON Schema check for the produce hot path, confirmed by jsonschema.

``jsonschema_rs`` answers "is this document valid?" about 20x faster than the reference
``jsonschema`` library. It is trusted only to ACCEPT: when it says a document is invalid, the
reference validator decides and writes the error. So a record is refused only when
``jsonschema`` refuses it, and the error text is the same as without the fast path;
tests/unit/test_json_schema_suite.py checks on the official JSON-Schema-Test-Suite that the
fast path never accepts what ``jsonschema`` refuses.

``$ref`` lookups go to the schema's own referencing registry (references and metaschemas),
never to the network. A schema the fast validator cannot compile simply has no fast path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema_rs
from referencing import Registry
from referencing.exceptions import Unresolvable

from weir.registry.formats.json_schema_drafts import Draft

FastCheck = Callable[[Any], bool]
"""``check(document) -> bool``: True means valid for sure; False means "ask jsonschema"."""

_RELATIVE = "json-schema:///"

_CLASSES: dict[str, Any] = {
    "draft-04": jsonschema_rs.Draft4Validator,
    "draft-06": jsonschema_rs.Draft6Validator,
    "draft-07": jsonschema_rs.Draft7Validator,
    "2019-09": jsonschema_rs.Draft201909Validator,
    "2020-12": jsonschema_rs.Draft202012Validator,
}


def fast_check(contents: Any, draft: Draft, registry: Registry[Any]) -> FastCheck | None:
    """A compiled check of ``contents`` under ``draft``, or None when it cannot be built."""
    cls = _CLASSES.get(draft.name)
    if cls is None:
        return None

    def retrieve(uri: str) -> Any:
        # jsonschema_rs asks for a relative ref ("address.json") as json-schema:///address.json
        for name in (uri.rstrip("#"), uri.removeprefix(_RELATIVE).rstrip("#")):
            try:
                return registry.contents(name)
            except (Unresolvable, LookupError):
                continue
        raise ValueError(f"{uri} is not a registered reference")

    try:
        validator = cls(contents, validate_formats=True, retriever=retrieve)
    except Exception:  # any compile failure just means: no fast path
        return None
    is_valid: FastCheck = validator.is_valid

    def check(document: Any) -> bool:
        try:
            return is_valid(document)
        except Exception:  # the reference validator decides instead
            return False

    return check


__all__ = ["FastCheck", "fast_check"]
