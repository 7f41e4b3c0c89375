"""The JSON Schema fast path agrees with jsonschema on the official JSON-Schema-Test-Suite.

tests/data/json_schema_test_suite holds the suite's required tests for the five drafts Weir
supports (from the suite copy in the jsonschema 4.26.0 sdist; refRemote.json is left out
because it needs a web server, and Weir never fetches remote refs). For every case whose
schema the registry accepts, the record validator's answer must equal jsonschema's, and the
fast (Rust) check must never accept a document jsonschema refuses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from weir.core.errors import InvalidRecordError, WeirError
from weir.registry.formats.base import ResolvedReference
from weir.registry.formats.json_schema import JSON_SCHEMA, JsonSchema

SUITE = Path(__file__).resolve().parents[1] / "data" / "json_schema_test_suite"
DIALECTS = {
    "draft4": "http://json-schema.org/draft-04/schema#",
    "draft6": "http://json-schema.org/draft-06/schema#",
    "draft7": "http://json-schema.org/draft-07/schema#",
    "draft2019-09": "https://json-schema.org/draft/2019-09/schema",
    "draft2020-12": "https://json-schema.org/draft/2020-12/schema",
}


def _parse(schema: Any, dialect: str) -> JsonSchema | None:
    if isinstance(schema, dict) and "$schema" not in schema:
        schema = {**schema, "$schema": dialect}
    try:
        parsed = JSON_SCHEMA.parse(json.dumps(schema))
    except WeirError:  # the registry refuses it (an unresolvable $ref, ...): never validates
        return None
    return parsed


def _accepts(parsed: JsonSchema, document: Any) -> bool:
    try:
        parsed.validator().validate(json.dumps(document).encode())
    except InvalidRecordError:
        return False
    return True


@pytest.mark.parametrize("draft", sorted(DIALECTS))
def test_fast_path_agrees_with_jsonschema_on_the_suite(draft: str) -> None:
    cases = fast_accepted = 0
    disagreements: list[str] = []
    for path in sorted((SUITE / draft).glob("*.json")):
        for group in json.loads(path.read_text()):
            parsed = _parse(group["schema"], DIALECTS[draft])
            if parsed is None:
                continue
            for test in group["tests"]:
                cases += 1
                reference = parsed.compiled.is_valid(test["data"])
                fast = parsed.fast is not None and parsed.fast(test["data"])
                fast_accepted += fast
                where = f"{path.name}: {group['description']} / {test['description']}"
                if fast and not reference:
                    disagreements.append(f"fast path accepts, jsonschema refuses: {where}")
                if _accepts(parsed, test["data"]) != reference:
                    disagreements.append(f"record validator differs from jsonschema: {where}")
    assert not disagreements, "\n".join(disagreements)
    assert cases > 500  # the whole suite ran, not a few files (draft4 has the fewest: ~590)
    # The fast path really carries the load: it accepts nearly every valid case by itself.
    assert fast_accepted > cases * 0.4


def test_rejections_still_explain_the_field() -> None:
    parsed = JSON_SCHEMA.parse('{"type": "object", "properties": {"n": {"type": "integer"}}}')
    assert parsed.fast is not None
    with pytest.raises(InvalidRecordError) as info:
        parsed.validator().validate(b'{"n": "seven"}')
    assert info.value.metadata == {"path": "/n", "rule": "type"}


def test_refs_resolve_offline_from_registered_references() -> None:
    parsed = JSON_SCHEMA.parse(
        '{"$defs": {"pos": {"type": "integer", "minimum": 1}},'
        ' "properties": {"n": {"$ref": "#/$defs/pos"}}}'
    )
    assert parsed.fast is not None
    assert parsed.fast({"n": 3}) is True
    assert parsed.fast({"n": 0}) is False


def test_relative_refs_to_registered_references_get_the_fast_path() -> None:
    address = JSON_SCHEMA.parse('{"type": "object", "properties": {"city": {"type": "string"}}}')
    parsed = JSON_SCHEMA.parse(
        '{"type": "object", "properties": {"home": {"$ref": "address.json"}}}',
        [ResolvedReference("address.json", address)],
    )
    assert parsed.fast is not None
    assert parsed.fast({"home": {"city": "Lyon"}}) is True
    assert parsed.fast({"home": {"city": 5}}) is False
