"""`weir schema lint [--config F] [--against-git REF]`: schema hygiene before review.

- Avro: the top level is a named record with a namespace; records and fields are
  documented; optional fields (unions with null) have a default.
- Protobuf: buf lint's naming rules, `_UNSPECIFIED` zero values, deleted fields and enum
  values reserved (compared with the file at REF, HEAD by default when in a git work tree).
- JSON Schema: `$schema` declared; `additionalProperties` stated on every object schema.

Every rule can be switched off in weir.toml: ``[lint] disable = [...]`` everywhere, or
``lint_disable = [...]`` in one subject's table. Exit 0 clean, 1 findings, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import Any

from weir.core.errors import InvalidArgumentError, InvalidConfigError, WeirError
from weir.core.types import SchemaType
from weir.registry.formats import ParsedSchema
from weir.sdk.cli import _workflow_lint_proto as proto
from weir.sdk.cli._output import Output
from weir.sdk.cli._workflow_config import SubjectEntry, WorkflowConfig, load
from weir.sdk.cli._workflow_history import GitHistory
from weir.sdk.cli._workflow_lines import locate
from weir.sdk.cli._workflow_report import Problem, SubjectResult, render
from weir.sdk.cli._workflow_schemas import display, offline, work_tree

Finding = proto.Finding

AVRO_RULES = {
    "AVRO_RECORD_NAMED": "the top-level schema is a named record",
    "AVRO_NAMESPACE": "named types have a namespace",
    "AVRO_RECORD_DOC": "records have a doc",
    "AVRO_FIELD_DOC": "fields have a doc",
    "AVRO_OPTIONAL_DEFAULT": "optional fields (unions with null) have a default",
}
JSON_RULES = {
    "JSON_SCHEMA_DECLARED": "the root declares $schema",
    "JSON_ADDITIONAL_PROPERTIES_EXPLICIT": "object schemas state additionalProperties",
}
RULES: dict[str, str] = {**AVRO_RULES, **proto.RULES, **JSON_RULES}
"""Every rule id -> what it asks for."""

TITLE = "weir schema lint"


def lint_command(args: argparse.Namespace, out: Output) -> int:
    """Lint every weir.toml subject in the work tree."""
    config = load(args.config)
    check_rule_ids(config)
    tree = work_tree(config, offline)
    history = _history(config, args.against_git)
    results = []
    for entry in config.entries:
        schema = tree.parse(entry)
        previous = _previous(history, entry) if entry.schema_type is SchemaType.PROTOBUF else None
        found = lint(schema, previous)
        disabled = config.lint_disable | entry.lint_disable
        problems = tuple(
            Problem(
                file=display(entry.file),
                line=locate(entry.schema_type, schema.text, path),
                level="LINT",
                rule=rule,
                path=path,
                message=message,
            )
            for rule, path, message in found
            if rule not in disabled
        )
        status = "findings" if problems else "clean"
        results.append(SubjectResult(entry.subject, display(entry.file), "LINT", status, problems))
    return render(results, args.output, TITLE)


def check_rule_ids(config: WorkflowConfig) -> None:
    """Reject unknown rule ids in disable lists, so a typo does not silently do nothing."""
    for where, ids in [("[lint] disable", config.lint_disable)] + [
        (f"[subjects.{e.subject}] lint_disable", e.lint_disable) for e in config.entries
    ]:
        unknown = sorted(ids - RULES.keys())
        if unknown:
            raise InvalidConfigError(
                f"{config.path}: {where} names unknown rule{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(unknown)}; known rules: {', '.join(sorted(RULES))}"
            )


def lint(schema: ParsedSchema, previous: ParsedSchema | None = None) -> list[Finding]:
    """Every finding for one parsed schema (``previous``: the version before, for protobuf)."""
    if schema.schema_type is SchemaType.PROTOBUF:
        return proto.lint(schema, previous)
    document = json.loads(schema.text)
    if schema.schema_type is SchemaType.AVRO:
        return list(_avro(document))
    return list(_json_schema(document))


def _history(config: WorkflowConfig, ref: str | None) -> GitHistory | None:
    try:
        return GitHistory(config, ref or "HEAD")
    except InvalidArgumentError:
        if ref is not None:
            raise  # asked for explicitly: not being in git is an error
        return None  # not in git, or no commits yet: no deletions to judge


def _previous(history: GitHistory | None, entry: SubjectEntry) -> ParsedSchema | None:
    if history is None:
        return None
    try:
        return history.at_ref(entry)
    except WeirError:
        return None


def _avro(root: Any) -> Iterator[Finding]:
    if not isinstance(root, dict) or root.get("type") != "record":
        yield ("AVRO_RECORD_NAMED", "/", "the top-level schema is not a record; wrap it in one")
    yield from _avro_named(root, (), None)


def _avro_named(node: Any, path: tuple[str, ...], namespace: str | None) -> Iterator[Finding]:
    """Walk every inline schema; ``path`` uses the compatibility engine's spelling."""
    where = "/" + "/".join(path)
    if isinstance(node, list):
        for i, branch in enumerate(node):
            yield from _avro_named(branch, (*path, str(i)), namespace)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in ("record", "error", "enum", "fixed"):
        name = str(node.get("name", ""))
        namespace = node.get("namespace") or (name.rpartition(".")[0] or namespace)
        if not namespace:
            yield ("AVRO_NAMESPACE", where, f"{kind} {name} has no namespace; add one")
        if kind in ("record", "error") and not node.get("doc"):
            yield ("AVRO_RECORD_DOC", where, f"record {name} has no doc; say what it is")
    if kind in ("record", "error"):
        for i, field in enumerate(node.get("fields", [])):
            yield from _avro_field(field, (*path, "fields", str(i)), namespace)
    elif kind == "array":
        yield from _avro_named(node.get("items"), (*path, "items"), namespace)
    elif kind == "map":
        yield from _avro_named(node.get("values"), (*path, "values"), namespace)
    elif isinstance(kind, dict | list):
        yield from _avro_named(kind, (*path, "type"), namespace)


def _avro_field(field: Any, path: tuple[str, ...], namespace: str | None) -> Iterator[Finding]:
    if not isinstance(field, dict):
        return
    where, name, kind = "/" + "/".join(path), field.get("name"), field.get("type")
    if not field.get("doc"):
        yield ("AVRO_FIELD_DOC", where, f"field {name} has no doc; say what it holds")
    optional = isinstance(kind, list) and "null" in kind
    if optional and "default" not in field:
        yield (
            "AVRO_OPTIONAL_DEFAULT",
            where,
            f'optional field {name} has no default; put null first and add "default": null',
        )
    yield from _avro_named(kind, (*path, "type"), namespace)


def _json_schema(root: Any) -> Iterator[Finding]:
    if isinstance(root, dict) and "$schema" not in root:
        yield (
            "JSON_SCHEMA_DECLARED",
            "/",
            "the schema does not declare $schema; add e.g. "
            '"$schema": "https://json-schema.org/draft/2020-12/schema"',
        )
    yield from _json_objects(root, ())


_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_SUBSCHEMAS = ("items", "additionalProperties", "not", "if", "then", "else", "contains")


def _json_objects(node: Any, path: tuple[str, ...]) -> Iterator[Finding]:
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    is_object = kind == "object" or (isinstance(kind, list) and "object" in kind)
    if (is_object or "properties" in node) and not (
        "additionalProperties" in node or "unevaluatedProperties" in node
    ):
        where = "/" + "/".join(path)
        yield (
            "JSON_ADDITIONAL_PROPERTIES_EXPLICIT",
            where,
            f"the object schema at {where} does not say whether other properties are allowed; "
            "set additionalProperties to true or false",
        )
    for key in _SUBSCHEMA_MAPS:
        children = node.get(key)
        if isinstance(children, dict):
            for name, child in children.items():
                token = name.replace("~", "~0").replace("/", "~1")  # JSON pointer escaping
                yield from _json_objects(child, (*path, key, token))
    for key in _SUBSCHEMA_LISTS:
        children = node.get(key)
        if isinstance(children, list):
            for i, child in enumerate(children):
                yield from _json_objects(child, (*path, key, str(i)))
    for key in _SUBSCHEMAS:
        yield from _json_objects(node.get(key), (*path, key))
