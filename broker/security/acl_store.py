"""ACLs kept durably on the compacted ``__acls`` topic, replayed on start.

Like the registry's ``_schemas`` store: one record per ACL, its key the ACL's identity and its
value the ACL as JSON; removing an ACL appends a tombstone. Appends are fsynced (acks=all)
before the change is acknowledged, and compaction keeps exactly the live set.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from weir.broker.log.api import Acks, NewRecord, TopicName
from weir.broker.log.engine import EmbeddedLogStore
from weir.broker.log.partition import Partition
from weir.broker.log.replay import DamageSkipper, replay
from weir.broker.security.acl import (
    AclBinding,
    AclFilter,
    Operation,
    PatternType,
    Permission,
    ResourceType,
)
from weir.broker.topics import TopicManager
from weir.core.crash_points import crash_point

log = logging.getLogger("weir.acl")

ACLS_TOPIC = TopicName("__acls")
"""The compacted internal topic holding the ACLs."""
_READ_BYTES = 1 << 20


def to_json(acl: AclBinding) -> dict[str, str]:
    """An ACL as a JSON object."""
    return {
        "principal": acl.principal,
        "resource_type": acl.resource_type.value,
        "name": acl.name,
        "pattern_type": acl.pattern_type.value,
        "operation": acl.operation.value,
        "permission": acl.permission.value,
    }


def from_json(doc: dict[str, str]) -> AclBinding:
    """An ACL from its JSON object."""
    return AclBinding(
        principal=doc["principal"],
        resource_type=ResourceType(doc["resource_type"]),
        name=doc["name"],
        pattern_type=PatternType(doc["pattern_type"]),
        operation=Operation(doc["operation"]),
        permission=Permission(doc["permission"]),
    )


class AclStore:
    """The live ACLs in memory, every change appended to ``__acls`` first."""

    def __init__(self, partition: Partition) -> None:
        self._partition = partition
        self._acls: dict[str, AclBinding] = {}
        self.version = 0
        """Grows on every change, so callers can cache decisions."""

    @classmethod
    async def open(cls, topics: TopicManager, log_store: EmbeddedLogStore) -> AclStore:
        """Create ``__acls`` when missing, then replay it."""
        topic = await topics.ensure_internal(ACLS_TOPIC)
        store = cls(log_store.partition(topic.partition(0)))
        store._replay()
        return store

    def _replay(self) -> None:
        """Rebuild the ACLs from ``__acls``, stepping over damaged batches (logged).

        A skipped batch may have held a DENY (or the tombstone removing an ALLOW), so the
        warning tells the operator to re-apply the ACLs; refusing to start instead would
        leave the whole cluster unusable for one lost batch, as Kafka does not either.
        """
        bounds = self._partition.offsets()
        skipper = DamageSkipper(
            log,
            str(ACLS_TOPIC),
            "the ACLs added or removed in it are lost, and a lost DENY no longer applies; "
            "re-apply the ACLs you rely on (weir acl add / weir acl remove)",
        )
        for record in replay(
            lambda offset: self._partition.read(offset, _READ_BYTES),
            bounds.log_start,
            bounds.log_end,
            skipper,
        ):
            key = (record.key or b"").decode()
            if record.value is None:
                self._acls.pop(key, None)
            else:
                self._acls[key] = from_json(json.loads(record.value))
        log.info("loaded %d ACLs from %s", len(self._acls), ACLS_TOPIC)
        if skipper.skipped:
            log.warning(
                "%s: %d offsets could not be read; review the ACLs (weir acl list) and "
                "re-apply any that are missing",
                ACLS_TOPIC,
                skipper.skipped,
            )

    def all(self) -> list[AclBinding]:
        """Every live ACL (the list the authorizer reads)."""
        return list(self._acls.values())

    def select(self, selector: AclFilter) -> list[AclBinding]:
        """The ACLs the filter selects, sorted for stable output."""
        return sorted((a for a in self._acls.values() if selector.matches(a)), key=_order)

    def add(self, acls: Iterable[AclBinding]) -> list[AclBinding]:
        """Store ACLs (already present ones are kept as they are); returns the new ones."""
        added = [a for a in dict.fromkeys(acls) if a.key() not in self._acls]
        self._append([(a.key(), json.dumps(to_json(a)).encode()) for a in added])
        if added:
            crash_point("acl.add.after_append")
        for acl in added:
            self._acls[acl.key()] = acl
        self.version += 1
        return added

    def remove(self, selector: AclFilter) -> list[AclBinding]:
        """Remove every ACL the filter selects; returns them."""
        removed = self.select(selector)
        self._append([(a.key(), None) for a in removed])
        if removed:
            crash_point("acl.remove.after_append")
        for acl in removed:
            del self._acls[acl.key()]
        self.version += 1
        return removed

    def _append(self, records: list[tuple[str, bytes | None]]) -> None:
        if not records:
            return
        stamp = self._partition.now_ms()
        batch = [NewRecord(value=v, key=k.encode(), timestamp_ms=stamp) for k, v in records]
        self._partition.append(batch, Acks.ALL)


def _order(acl: AclBinding) -> tuple[str, ...]:
    return (acl.resource_type, acl.name, acl.principal, acl.operation, acl.permission)
