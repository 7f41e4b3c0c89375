"""The REST API's view of base64 protobuf descriptors: the shared module, re-exported.

The code lives in ``weir.registry.formats.protobuf_text`` so the gRPC servicer accepts the
same input; this name stays for the REST modules that import it.
"""

from __future__ import annotations

from weir.registry.formats.protobuf_text import decode_descriptor, proto_text, render, serialized

__all__ = ["decode_descriptor", "proto_text", "render", "serialized"]
