"""The list filter decides exactly as the authorizer does for describe, and costs little."""

from __future__ import annotations

import itertools
import random
import time

from weir.broker.security.acl import (
    AclBinding,
    Operation,
    PatternType,
    Permission,
    ResourceType,
    authorize,
)
from weir.broker.security.visibility import NameMatcher

NAMES = ["a", "ab", "abc", "b", "ba", "*", "c.x", "c.y"]
PRINCIPALS = ["User:alice", "User:bob", "User:*"]


def random_acls(rng: random.Random, count: int) -> list[AclBinding]:
    return [
        AclBinding(
            principal=rng.choice(PRINCIPALS),
            resource_type=rng.choice([ResourceType.TOPIC, ResourceType.GROUP]),
            name=rng.choice(["a", "ab", "b", "*", "c.", "zz"]),
            pattern_type=rng.choice(list(PatternType)),
            operation=rng.choice(list(Operation)),
            permission=rng.choice(list(Permission)),
        )
        for _ in range(count)
    ]


def test_matcher_agrees_with_authorize_on_random_acl_sets() -> None:
    rng = random.Random(9)
    checked = 0
    for _ in range(400):
        acls = random_acls(rng, rng.randint(0, 10))
        for principal, kind in itertools.product(["User:alice", "User:bob"], ResourceType):
            matcher = NameMatcher.compile(acls, principal, kind)
            expected = [
                n
                for n in NAMES
                if authorize(
                    acls,
                    frozenset(),
                    principal,
                    resource_type=kind,
                    name=n,
                    operation=Operation.DESCRIBE,
                )
            ]
            assert matcher.keep(NAMES) == expected, (acls, principal, kind)
            checked += 1
    assert checked == 400 * 2 * len(ResourceType)


def test_read_implies_describe_but_a_denied_read_hides_nothing() -> None:
    acls = [
        AclBinding(
            "User:alice",
            ResourceType.TOPIC,
            "pay.",
            PatternType.PREFIXED,
            Operation.READ,
            Permission.ALLOW,
        ),
        AclBinding(
            "User:alice",
            ResourceType.TOPIC,
            "pay.x",
            PatternType.LITERAL,
            Operation.READ,
            Permission.DENY,
        ),
        AclBinding(
            "User:alice",
            ResourceType.TOPIC,
            "pay.y",
            PatternType.LITERAL,
            Operation.DESCRIBE,
            Permission.DENY,
        ),
        AclBinding(
            "User:*",
            ResourceType.TOPIC,
            "open",
            PatternType.LITERAL,
            Operation.CREATE,
            Permission.ALLOW,
        ),
    ]
    matcher = NameMatcher.compile(acls, "User:alice", ResourceType.TOPIC)
    assert matcher.keep(["pay.a", "pay.x", "pay.y", "open", "other"]) == ["pay.a", "pay.x"]


def test_filtering_ten_thousand_names_is_cheap() -> None:
    acls = [
        AclBinding(
            "User:alice",
            ResourceType.TOPIC,
            f"team{i}.",
            PatternType.PREFIXED,
            Operation.READ,
            Permission.ALLOW,
        )
        for i in range(100)
    ] + [
        AclBinding(
            f"User:u{i}",
            ResourceType.TOPIC,
            f"t{i}",
            PatternType.LITERAL,
            Operation.READ,
            Permission.ALLOW,
        )
        for i in range(900)
    ]
    names = [f"team{i % 200}.topic{i}" for i in range(10_000)]
    start = time.perf_counter()
    kept = NameMatcher.compile(acls, "User:alice", ResourceType.TOPIC).keep(names)
    elapsed = time.perf_counter() - start
    assert len(kept) == 5000
    assert elapsed < 0.5, f"{elapsed * 1000:.1f} ms to filter 10k names against 1000 ACLs"
