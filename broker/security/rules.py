"""The one table: what every RPC needs, as (resource type, name, operation) checks.

The mapping follows Kafka's where Kafka has the operation: produce needs write on the topic,
fetch read, a consumer's heartbeat and commit read on the group (a commit also read on its
topics), offset fetches describe, creating a topic create, config changes and new partitions
alter, deletes delete. Registry calls act on subjects the way Confluent's ACL authorizer does
(register = write, reads = read, config and mode = alter, global config and mode on the
cluster). Changing ACLs needs alter on the cluster; listing them describe.

Some calls need only an authenticated caller: InitProducer (it hands out a producer id and
writes nothing; every Produce is checked), the schema-by-id lookups, which serializers make
before they know a subject (ids are content-addressed and schema text is not record data), and
the calls listing topics, groups and subjects: as in Kafka, their results keep only the names
the caller may describe (``visibility``), everything for describe on the cluster.

A method missing from the table is refused when ACLs are on; a test checks that every RPC of
every Weir service is here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from weir.broker.security.acl import CLUSTER_NAME, Operation, ResourceType


@dataclass(frozen=True, slots=True)
class Need:
    """One check a request must pass."""

    resource_type: ResourceType
    """The kind of resource."""
    name: str
    """The resource's name (``weir-cluster`` for the cluster)."""
    operation: Operation
    """The operation the request performs on it."""


@dataclass(frozen=True, slots=True)
class Rule:
    """What one RPC needs, and whether it is written to the audit log."""

    needs: Callable[[Any], list[Need]]
    """The checks for a request (an empty list: authentication only)."""
    audit: bool = False
    """True for admin and registry changes."""


def _cluster(op: Operation) -> Callable[[Any], list[Need]]:
    return lambda _request: [Need(ResourceType.CLUSTER, CLUSTER_NAME, op)]


def _field(kind: ResourceType, field: str, op: Operation) -> Callable[[Any], list[Need]]:
    return lambda request: [Need(kind, getattr(request, field), op)]


def _topics(op: Operation, names: Iterable[str]) -> list[Need]:
    return [Need(ResourceType.TOPIC, name, op) for name in dict.fromkeys(names)]


def _subject_or_cluster(op: Operation) -> Callable[[Any], list[Need]]:
    def needs(request: Any) -> list[Need]:
        if request.HasField("subject"):
            return [Need(ResourceType.SUBJECT, request.subject, op)]
        return [Need(ResourceType.CLUSTER, CLUSTER_NAME, op)]

    return needs


def _group(request: Any, op: Operation) -> Need:
    return Need(ResourceType.GROUP, request.group_id, op)


def _commit(request: Any) -> list[Need]:
    topics = (o.topic for o in request.offsets)
    return [_group(request, Operation.READ), *_topics(Operation.READ, topics)]


def _reset(request: Any) -> list[Need]:
    needs = [_group(request, Operation.READ)]
    if request.WhichOneof("scope") == "topic":
        needs += _topics(Operation.READ, [request.topic])
    return needs


def _authenticated(_request: Any) -> list[Need]:
    return []


_R, _W, _D = Operation.READ, Operation.WRITE, Operation.DESCRIBE
_TOPIC, _SUBJECT = ResourceType.TOPIC, ResourceType.SUBJECT

RULES: dict[str, Rule] = {
    # LogService
    "weir.v1.LogService/InitProducer": Rule(_authenticated),
    "weir.v1.LogService/Produce": Rule(_field(_TOPIC, "topic", _W)),
    "weir.v1.LogService/ProduceStream": Rule(lambda r: _topics(_W, [r.request.topic])),
    "weir.v1.LogService/Fetch": Rule(lambda r: _topics(_R, (p.topic for p in r.partitions))),
    "weir.v1.LogService/ListOffsets": Rule(_field(_TOPIC, "topic", _D)),
    # TopicService
    "weir.v1.TopicService/CreateTopic": Rule(_field(_TOPIC, "name", Operation.CREATE), True),
    "weir.v1.TopicService/GetTopic": Rule(_field(_TOPIC, "name", _D)),
    "weir.v1.TopicService/ListTopics": Rule(_authenticated),  # filtered
    "weir.v1.TopicService/UpdateTopicConfig": Rule(_field(_TOPIC, "name", Operation.ALTER), True),
    "weir.v1.TopicService/CreatePartitions": Rule(_field(_TOPIC, "name", Operation.ALTER), True),
    "weir.v1.TopicService/DeleteTopic": Rule(_field(_TOPIC, "name", Operation.DELETE), True),
    # GroupService
    "weir.v1.GroupService/Heartbeat": Rule(lambda r: [_group(r, _R)]),
    "weir.v1.GroupService/LeaveGroup": Rule(lambda r: [_group(r, _R)]),
    "weir.v1.GroupService/CommitOffsets": Rule(_commit),
    "weir.v1.GroupService/FetchCommittedOffsets": Rule(lambda r: [_group(r, _D)]),
    "weir.v1.GroupService/ListGroups": Rule(_authenticated),  # filtered
    "weir.v1.GroupService/DescribeGroup": Rule(lambda r: [_group(r, _D)]),
    "weir.v1.GroupService/ResetOffsets": Rule(_reset, True),
    "weir.v1.GroupService/DeleteGroup": Rule(lambda r: [_group(r, Operation.DELETE)], True),
    # RegistryService
    "weir.v1.RegistryService/RegisterSchema": Rule(_field(_SUBJECT, "subject", _W), True),
    "weir.v1.RegistryService/GetSchema": Rule(_authenticated),
    "weir.v1.RegistryService/ListSchemaVersions": Rule(_authenticated),  # filtered
    "weir.v1.RegistryService/GetSubjectVersion": Rule(_field(_SUBJECT, "subject", _R)),
    "weir.v1.RegistryService/ListSubjects": Rule(_authenticated),  # filtered
    "weir.v1.RegistryService/ListVersions": Rule(_field(_SUBJECT, "subject", _R)),
    "weir.v1.RegistryService/LookupSchema": Rule(_field(_SUBJECT, "subject", _R)),
    "weir.v1.RegistryService/GetReferencedBy": Rule(_field(_SUBJECT, "subject", _R)),
    "weir.v1.RegistryService/CheckCompatibility": Rule(_field(_SUBJECT, "subject", _R)),
    "weir.v1.RegistryService/DeleteSubject": Rule(
        _field(_SUBJECT, "subject", Operation.DELETE), True
    ),
    "weir.v1.RegistryService/DeleteSchemaVersion": Rule(
        _field(_SUBJECT, "subject", Operation.DELETE), True
    ),
    "weir.v1.RegistryService/GetCompatibility": Rule(_subject_or_cluster(_D)),
    "weir.v1.RegistryService/SetCompatibility": Rule(_subject_or_cluster(Operation.ALTER), True),
    "weir.v1.RegistryService/DeleteCompatibility": Rule(
        _field(_SUBJECT, "subject", Operation.ALTER), True
    ),
    "weir.v1.RegistryService/GetMode": Rule(_subject_or_cluster(_D)),
    "weir.v1.RegistryService/SetMode": Rule(_subject_or_cluster(Operation.ALTER), True),
    # AclService
    "weir.v1.AclService/CreateAcls": Rule(_cluster(Operation.ALTER), True),
    "weir.v1.AclService/DeleteAcls": Rule(_cluster(Operation.ALTER), True),
    "weir.v1.AclService/ListAcls": Rule(_cluster(_D)),
}
"""Every Weir RPC, by ``package.Service/Method``."""

OPEN_METHODS = frozenset({"grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch"})
"""Health checks: answered without credentials, so load balancers and probes work."""
AUTHENTICATED_SERVICES = frozenset(
    {"grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"}
)
"""Services any authenticated caller may use (reflection describes the API, not data)."""
