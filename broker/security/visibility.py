"""List results filtered by ACL: a caller sees the topics, groups and subjects it may describe.

Kafka's rules: listing topics (Metadata) needs only authentication and returns the topics
the principal may describe; ListGroups returns the groups it may describe; Confluent RBAC
filters GET /subjects the same way. Any allowed operation implying describe counts (read,
write, delete, alter, all), and a deny of describe or all hides the name. Super users and
holders of describe on the cluster see everything.

``NameMatcher`` compiles one principal's ACLs on one resource type into sets and prefix
tuples, so filtering N names costs N set lookups and ``str.startswith`` calls, not
N times the ACL count. It decides exactly as ``acl.authorize`` does for describe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from weir.broker.security.acl import (
    WILDCARD,
    AclBinding,
    Operation,
    PatternType,
    Permission,
    ResourceType,
    principal_matches,
)

_ALLOW_DESCRIBE = frozenset(
    {
        Operation.ALL,
        Operation.DESCRIBE,
        Operation.READ,
        Operation.WRITE,
        Operation.DELETE,
        Operation.ALTER,
    }
)
_DENY_DESCRIBE = frozenset({Operation.ALL, Operation.DESCRIBE})


@dataclass(frozen=True, slots=True)
class _Patterns:
    """The names one set of ACLs covers."""

    every: bool
    """A literal ``*``: every name."""
    literal: frozenset[str]
    """Exact names."""
    prefixes: tuple[str, ...]
    """Name prefixes."""

    def covers(self, name: str) -> bool:
        """Whether ``name`` is covered."""
        return self.every or name in self.literal or name.startswith(self.prefixes)


def _patterns(acls: Iterable[AclBinding]) -> _Patterns:
    literal, prefixes, every = set(), [], False
    for acl in acls:
        if acl.pattern_type is PatternType.PREFIXED:
            prefixes.append(acl.name)
        elif acl.name == WILDCARD:
            every = True
        else:
            literal.add(acl.name)
    return _Patterns(every, frozenset(literal), tuple(prefixes))


@dataclass(frozen=True, slots=True)
class NameMatcher:
    """Which names of one resource type one principal may describe."""

    allow: _Patterns
    """Names an allow ACL implying describe covers."""
    deny: _Patterns
    """Names a deny of describe (or all) covers: these are hidden whatever is allowed."""

    @classmethod
    def compile(
        cls, acls: Iterable[AclBinding], principal: str, resource_type: ResourceType
    ) -> NameMatcher:
        """The matcher for ``principal``'s ACLs on ``resource_type``."""
        mine = [
            a
            for a in acls
            if a.resource_type is resource_type and principal_matches(a.principal, principal)
        ]
        return cls(
            allow=_patterns(
                a
                for a in mine
                if a.permission is Permission.ALLOW and a.operation in _ALLOW_DESCRIBE
            ),
            deny=_patterns(
                a for a in mine if a.permission is Permission.DENY and a.operation in _DENY_DESCRIBE
            ),
        )

    def may_describe(self, name: str) -> bool:
        """Kafka's decision for describe on ``name``: no covering deny, a covering allow."""
        return not self.deny.covers(name) and self.allow.covers(name)

    def keep(self, names: Sequence[str]) -> list[str]:
        """The names this principal may describe, in their order."""
        if not (self.allow.every or self.allow.literal or self.allow.prefixes):
            return []
        may = self.may_describe
        return [name for name in names if may(name)]
