"""Nesting depth of protobuf messages whose type can contain itself.

protobuf's own decoder stops at 100 levels; ``max_payload_depth`` may be lower, and only a
recursive message type can nest deeper than its schema, so only those are measured.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor, message


def _children(msg: message.Message) -> list[message.Message]:
    found: list[message.Message] = []
    for field, value in msg.ListFields():
        kind = field.message_type
        if kind is None:
            continue
        if kind.GetOptions().map_entry:
            if kind.fields_by_name["value"].message_type is not None:
                found.extend(value.values())
        elif field.is_repeated:
            found.extend(value)
        else:
            found.append(value)
    return found


def message_depth(msg: message.Message, stop: int) -> int:
    """Levels of nested messages (the message itself is 1); stops counting past ``stop``."""
    deepest = 0
    stack: list[tuple[message.Message, int]] = [(msg, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > stop:
                return deepest
        stack.extend((child, depth + 1) for child in _children(node))
    return deepest


def is_recursive(root: descriptor.Descriptor) -> bool:
    """True when a message type reachable from ``root`` can contain itself."""
    done: set[str] = set()
    path: set[str] = set()

    def visit(kind: Any) -> bool:
        name = kind.full_name
        if name in path:
            return True
        if name in done:
            return False
        path.add(name)
        for field in kind.fields:
            if field.message_type is not None and visit(field.message_type):
                return True
        path.discard(name)
        done.add(name)
        return False

    try:
        return visit(root)
    except RecursionError:  # a chain of thousands of types: measure its payloads anyway
        return True
