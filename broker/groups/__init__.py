"""Consumer groups: a KIP-848 style coordinator with server-side assignment and offsets.

The coordinator (``group``, ``coordinator``, ``assignment``) is pure: no gRPC, no protobuf,
no I/O, and time is injected. ``store`` keeps offsets and group state on the compacted
``__consumer_offsets`` topic; ``service`` composes them for the gRPC servicer.
"""
