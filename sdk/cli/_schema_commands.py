"""The `weir schema` commands that talk to a running registry through SchemaRegistryClient."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from weir.core.errors import InvalidArgumentError, InvalidReferenceError, InvalidSchemaError
from weir.sdk import (
    LATEST,
    CompatibilityCheck,
    Schema,
    SchemaRegistryClient,
    SubjectVersion,
)
from weir.sdk.cli import _schema_input as given
from weir.sdk.cli._output import INCOMPATIBLE, OK, Output, incompatibility_lines

ClientCommand = Callable[[argparse.Namespace, Output, SchemaRegistryClient], int]


def register(args: argparse.Namespace, out: Output, client: SchemaRegistryClient) -> int:
    """`weir schema register SUBJECT FILE`."""
    schema_type = given.schema_type(args.type, args.file)
    references = given.references(args.reference)
    text = given.read_schema(args.file)
    with naming_file(args.file):
        found = client.register(args.subject, text, schema_type, references)
    out.result(
        {"subject": args.subject, "id": found.id, "version": found.version},
        f"{args.subject}: version {found.version}, schema id {found.id}",
    )
    return OK


def get(args: argparse.Namespace, out: Output, client: SchemaRegistryClient) -> int:
    """`weir schema get SUBJECT [--version N|latest]` or `weir schema get --id ID`."""
    if args.id is not None:
        if args.subject is not None or args.version is not None:
            raise InvalidArgumentError("pass either SUBJECT [--version N] or --id ID, not both")
        schema = client.get_schema(args.id)
        out.result(schema_json(schema), schema.text.rstrip("\n"))
        return OK
    if args.subject is None:
        raise InvalidArgumentError("name a SUBJECT (with --version N|latest) or pass --id ID")
    version = given.version(args.version) or LATEST
    sv = client.get_version(args.subject, version, include_deleted=args.deleted)
    out.result(version_json(sv), sv.schema.text.rstrip("\n") if sv.schema else "")
    return OK


def list_(args: argparse.Namespace, out: Output, client: SchemaRegistryClient) -> int:
    """`weir schema list [SUBJECT]`."""
    if args.subject is None:
        subjects = client.list_subjects(include_deleted=args.deleted, prefix=args.prefix)
        out.result({"subjects": subjects}, "\n".join(subjects))
        return OK
    versions = client.list_versions(args.subject, include_deleted=args.deleted)
    out.result({"subject": args.subject, "versions": versions}, "\n".join(str(v) for v in versions))
    return OK


def delete(args: argparse.Namespace, out: Output, client: SchemaRegistryClient) -> int:
    """`weir schema delete SUBJECT [--version N|latest] [--permanent]`."""
    version = given.version(args.version)
    if version is None:
        versions = client.delete_subject(args.subject, permanent=args.permanent)
    else:
        versions = [client.delete_version(args.subject, version, permanent=args.permanent)]
    how = "permanently deleted" if args.permanent else "soft-deleted"
    numbers = ", ".join(str(v) for v in versions)
    out.result(
        {"subject": args.subject, "versions": versions, "permanent": args.permanent},
        f"{args.subject}: {how} version{'s' if len(versions) != 1 else ''} {numbers}",
    )
    return OK


def config(args: argparse.Namespace, out: Output, client: SchemaRegistryClient) -> int:
    """`weir schema config [SUBJECT] [--level LEVEL]`."""
    if args.level is not None:
        level = client.set_compatibility(given.level(args.level), args.subject)
    else:
        level = client.get_compatibility(args.subject, default_to_global=True)
    out.result({"subject": args.subject, "level": level.value}, level.value)
    return OK


def check(args: argparse.Namespace, out: Output, client: SchemaRegistryClient) -> int:
    """`weir schema check SUBJECT FILE [--version N|latest]`."""
    schema_type = given.schema_type(args.type, args.file)
    references = given.references(args.reference)
    version = given.version(args.version)
    text = given.read_schema(args.file)
    with naming_file(args.file):
        result = client.check_compatibility(args.subject, text, schema_type, version, references)
    return print_check(out, result, f"subject {args.subject!r}")


@contextlib.contextmanager
def naming_file(path: Path) -> Iterator[None]:
    """Prefix the file name to a schema or reference error the server found in its text."""
    try:
        yield
    except (InvalidSchemaError, InvalidReferenceError) as e:
        raise type(e)(f"{path}: {e.message}", metadata=e.metadata) from None


def print_check(
    out: Output,
    result: CompatibilityCheck,
    against: str,
    files: Mapping[int, str] | None = None,
) -> int:
    """Print a verdict in either format; 0 when compatible, 1 when not.

    ``files`` names the file behind each compared version, for offline checks.
    """
    messages: list[dict[str, Any]] = []
    for i in result.incompatibilities:
        message: dict[str, Any] = {
            "rule": i.rule,
            "path": i.path,
            "message": i.message,
            "level": i.level.value if i.level else None,
            "version": i.version,
        }
        if files is not None and i.version is not None and i.version in files:
            message["file"] = files[i.version]
        messages.append(message)
    level = result.level.value if result.level else "?"
    if result.compatible:
        text = f"compatible with {against} at level {level}"
    else:
        count = len(messages)
        text = "\n".join(
            [
                f"incompatible with {against} at level {level}: "
                f"{count} problem{'s' if count != 1 else ''}",
                *incompatibility_lines(messages),
            ]
        )
    out.result({"compatible": result.compatible, "messages": messages}, text)
    return OK if result.compatible else INCOMPATIBLE


def schema_json(schema: Schema) -> dict[str, Any]:
    """A schema as JSON."""
    return {
        "id": schema.id,
        "schema_type": schema.schema_type.value,
        "schema": schema.text,
        "references": [
            {"name": r.name, "subject": r.subject, "version": r.version} for r in schema.references
        ],
    }


def version_json(sv: SubjectVersion) -> dict[str, Any]:
    """A subject version as JSON."""
    return {
        "subject": sv.subject,
        "version": sv.version,
        "deleted": sv.deleted,
        **(schema_json(sv.schema) if sv.schema else {}),
    }
