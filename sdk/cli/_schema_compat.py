"""`weir schema compat`: check schema files against each other offline, with no server.

Parses every file with its format and applies a compatibility level with the registry's own
engine, so the verdict is the one a server would give. Previous files come oldest first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from weir.core.errors import InvalidSchemaError, WeirError
from weir.core.types import SchemaType
from weir.registry.compatibility import check_compatibility
from weir.registry.formats import ParsedSchema, get_format
from weir.sdk import CompatibilityCheck, Incompatibility
from weir.sdk.cli import _schema_input as given
from weir.sdk.cli._output import Output
from weir.sdk.cli._schema_commands import print_check


def compat(args: argparse.Namespace, out: Output) -> int:
    """`weir schema compat --type TYPE --level LEVEL NEW_FILE [PREVIOUS_FILE ...]`."""
    schema_type = given.schema_type(args.type, args.new)
    level = given.level(args.level)
    texts = [(path, given.read_schema(path)) for path in (args.new, *args.previous)]
    parsed = [_parse(schema_type, path, text) for path, text in texts]
    new, history = parsed[0], parsed[1:]
    labels = list(range(1, len(history) + 1))
    result = check_compatibility(level, new, history, versions=labels)
    verdict = CompatibilityCheck(
        compatible=result.compatible,
        level=result.level,
        incompatibilities=tuple(
            Incompatibility(i.rule, i.path, i.message, i.direction, i.version)
            for i in result.incompatibilities
        ),
    )
    files = {n: str(path) for n, path in zip(labels, args.previous, strict=True)}
    against = ", ".join(files.values()) or "no previous versions"
    return print_check(out, verdict, against, files)


def _parse(schema_type: SchemaType, path: Path, text: str) -> ParsedSchema:
    try:
        return get_format(schema_type).parse(text)
    except WeirError as e:
        # The format names the line/field; say which file too.
        raise type(e)(f"{path}: {e.message}", metadata=e.metadata) from None
    except (ValueError, TypeError) as e:  # a format that let a library error through
        raise InvalidSchemaError(f"{path}: not a valid {schema_type} schema: {e}") from None
