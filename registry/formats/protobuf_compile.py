"""Compile .proto text to descriptors with the protoc bundled in grpcio-tools.

protoc runs in-process (``grpc_tools.protoc.main``): about 1 ms per schema, against about
50 ms for a ``python -m grpc_tools.protoc`` subprocess. protoc writes its diagnostics to the
process's file descriptor 2, so each run redirects fd 2 into a temp file, under a lock
because a descriptor redirection is process-wide (whatever another thread writes to fd 2
during that millisecond lands in the capture; only protoc-shaped lines are reported).
Diagnostics come back rewritten to name the user's schema as ``line L, column C`` and
referenced files by their import path.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import grpc_tools
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

from weir.core.errors import InvalidReferenceError, InvalidSchemaError

WELL_KNOWN_DIR = str(Path(grpc_tools.__file__).resolve().parent / "_proto")
"""grpcio-tools' bundled include folder: google/protobuf/*.proto (timestamp, any, ...)."""

_FD_LOCK = threading.Lock()
_MISSING = re.compile(r"^(?P<file>\S+): File not found\.$")
_LOCATED = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<msg>.*)$")
_FILE_LEVEL = re.compile(r"^(?P<file>[^:\s]+\.proto): (?P<msg>.*)$")


@dataclass(frozen=True, slots=True)
class CompiledFiles:
    """What one protoc run produced."""

    main: descriptor_pb2.FileDescriptorProto
    """The user's file, without source info."""
    files: tuple[descriptor_pb2.FileDescriptorProto, ...]
    """Every file in dependency order (imports first); the main file is last."""


def check_import_path(name: str) -> None:
    """Raise InvalidReferenceError unless ``name`` is a relative path inside the include dir."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or "\0" in name:
        raise InvalidReferenceError(
            f"reference name {name!r} is not a relative import path such as "
            '"common/money.proto"; use the path the schema imports',
            metadata={"reference": name},
        )


def compile_proto(text: str, imports: Mapping[str, str]) -> CompiledFiles:
    """Compile ``text``; ``imports`` maps import paths to the text of referenced files.

    Raises InvalidReferenceError when an import is neither given nor a well-known type,
    and InvalidSchemaError with protoc's diagnostics for anything else.
    """
    main_name = _main_name(imports)
    with tempfile.TemporaryDirectory(prefix="weir-proto-") as tmp:
        root = Path(tmp) / "src"
        for name, body in {**imports, main_name: text}.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
        out = Path(tmp) / "out.pb"
        args = [
            "protoc",
            f"-I{root}",
            f"-I{WELL_KNOWN_DIR}",
            "--include_imports",
            f"--descriptor_set_out={out}",
            main_name,
        ]
        code, diagnostics = _run_protoc(args, Path(tmp) / "stderr.txt")
        if code != 0 or not out.exists():
            raise _compile_error(diagnostics, f"{root}{os.sep}", main_name)
        data = out.read_bytes()
    descriptor_set = descriptor_pb2.FileDescriptorSet.FromString(data)
    files = tuple(descriptor_set.file)
    return CompiledFiles(main=files[-1], files=files)


def _main_name(imports: Mapping[str, str]) -> str:
    name, n = "schema.proto", 1
    while name in imports:
        n += 1
        name = f"schema_{n}.proto"
    return name


def _run_protoc(args: list[str], err_path: Path) -> tuple[int, str]:
    with _FD_LOCK:
        sys.stderr.flush()
        err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        saved = os.dup(2)
        try:
            os.dup2(err_fd, 2)
            try:
                code = int(protoc.main(args))
            finally:
                os.dup2(saved, 2)
        finally:
            os.close(saved)
            os.close(err_fd)
    return code, err_path.read_text(encoding="utf-8", errors="replace")


def _compile_error(
    diagnostics: str, root_prefix: str, main_name: str
) -> InvalidSchemaError | InvalidReferenceError:
    missing: list[str] = []
    problems: list[str] = []
    for raw in diagnostics.splitlines():
        line = raw.replace(root_prefix, "").strip()
        if not line or line.startswith(("WARNING: All log messages", "W0000", "I0000")):
            continue
        if "warning:" in line:
            continue
        if found := _MISSING.match(line):
            missing.append(found["file"])
            continue
        if "was not found or had errors" in line and missing:
            continue
        problems.append(line)
    # Another thread's stderr output may land in the capture; keep protoc's own lines.
    located = [p for p in problems if _LOCATED.match(p) or _FILE_LEVEL.match(p)]
    problems = [_describe(p, main_name) for p in (located or problems)]
    if missing:
        names = ", ".join(f'"{m}"' for m in missing)
        return InvalidReferenceError(
            f"import {names} is not available: add a schema reference named {names} "
            "(google/protobuf/*.proto well-known types need none)",
            metadata={"import": missing[0]},
        )
    if not problems:
        problems = ["protoc rejected the schema without saying why"]
    return InvalidSchemaError(
        "invalid Protobuf schema: " + "; ".join(problems),
        metadata={"diagnostic": problems[0]},
    )


def _describe(line: str, main_name: str) -> str:
    if found := _LOCATED.match(line):
        where = f"line {found['line']}, column {found['col']}"
        if found["file"] != main_name:
            where = f"{found['file']} {where}"
        return f"{where}: {found['msg']}"
    if (found := _FILE_LEVEL.match(line)) and found["file"] == main_name:
        return found["msg"]
    return line
