"""Regenerate the committed protobuf and gRPC modules in proto/weir/v1.

Usage: python scripts/gen_proto.py [--check]

With --check, nothing is written: the script exits 1 and names the stale files when
regenerating would change anything (the CI freshness check).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUT_DIR = PROTO_ROOT / "weir" / "v1"
GENERATED = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def generate(out_root: Path) -> None:
    """Run protoc on every .proto under proto/weir/v1, writing into out_root."""
    sources = sorted(str(p.relative_to(PROTO_ROOT)) for p in OUT_DIR.glob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed; see the error above")


def generated_files(root: Path) -> dict[str, bytes]:
    """Map each generated file name under root/weir/v1 to its bytes."""
    folder = root / "weir" / "v1"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name.endswith(GENERATED)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the files are stale")
    check = parser.parse_args().check
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        fresh = generated_files(Path(tmp))
        current = generated_files(PROTO_ROOT)
        stale = sorted(n for n in fresh.keys() | current.keys() if fresh.get(n) != current.get(n))
        if check:
            if stale:
                print("stale generated code; run `python scripts/gen_proto.py`:", *stale)
                return 1
            print(f"generated code is fresh ({len(fresh)} files)")
            return 0
        for name in stale:
            target = OUT_DIR / name
            if name in fresh:
                target.write_bytes(fresh[name])
            else:
                target.unlink()
        print(f"wrote {len(stale)} of {len(fresh)} generated files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
