"""AsyncAdmin: the Admin client on grpc.aio, for asyncio code.

The same methods, arguments, return values and errors as the sync ``Admin``, as coroutines.
Requests are built and replies parsed in ``_admin_shared`` and ``_admin_groups``, shared with
the sync client: this class only sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from weir.sdk import _admin_groups as groups
from weir.sdk import _admin_shared as shared
from weir.sdk._admin_groups import (
    CommittedOffset,
    DeletedGroup,
    GroupDescription,
    GroupSummary,
    ResetResult,
    ResetTarget,
)
from weir.sdk._admin_shared import ListedOffset, OffsetSpec, TopicInfo
from weir.sdk._aio_client import AsyncGrpcClient
from weir.sdk._call import Call
from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S
from weir.sdk._credentials import Credentials
from weir.sdk._retry import RetryPolicy
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import log_service_pb2_grpc as ls_grpc
from weir.v1 import topic_service_pb2_grpc as ts_grpc

T = TypeVar("T")


class AsyncAdmin(AsyncGrpcClient):
    """An asyncio client for topics, their configs and partitions, offsets and consumer groups.

    ``async with`` it or ``await close()``; create it inside the event loop that uses it.
    """

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        super().__init__(server, timeout_s=timeout_s, retry=retry, credentials=credentials)
        self._stubs: dict[str, Any] = {
            shared.TOPICS: ts_grpc.TopicServiceStub(self._channel),  # type: ignore[no-untyped-call]
            shared.LOG: ls_grpc.LogServiceStub(self._channel),  # type: ignore[no-untyped-call]
            groups.GROUPS: gs_grpc.GroupServiceStub(self._channel),  # type: ignore[no-untyped-call]
        }

    async def _run(self, call: Call[T]) -> T:
        method = getattr(self._stubs[call.stub], call.method)
        return call.parse(await self._call(method, call.request, idempotent=call.idempotent))

    # ----- topics -----------------------------------------------------------------------------

    async def create_topic(
        self, name: str, partitions: int, config: Mapping[str, str] | None = None
    ) -> TopicInfo:
        """Create a topic with ``partitions`` partitions and config overrides (Kafka keys).

        Never retried: after a lost reply a second run would fail with TopicExistsError.
        """
        return await self._run(shared.create_topic(name, partitions, config))

    async def describe_topic(self, name: str) -> TopicInfo:
        """A topic with every partition's log start and end offsets."""
        return await self._run(shared.describe_topic(name))

    async def describe_config(self, name: str) -> Mapping[str, str]:
        """A topic's config overrides by Kafka key name (sorted, read-only).

        Keys not listed have the server's defaults. TopicNotFoundError if there is no topic.
        """
        return await self._run(shared.describe_config(name))

    async def list_topics(self, include_internal: bool = False) -> list[TopicInfo]:
        """Every topic sorted by name, without partition details."""
        return await self._run(shared.list_topics(include_internal))

    async def alter_config(
        self, name: str, set: Mapping[str, str] | None = None, remove: Iterable[str] = ()
    ) -> TopicInfo:
        """Set config overrides and remove others (so their defaults apply again)."""
        return await self._run(shared.alter_config(name, set, remove))

    async def add_partitions(self, name: str, total: int) -> TopicInfo:
        """Grow a topic to ``total`` partitions; partitions are never removed. Never retried."""
        return await self._run(shared.add_partitions(name, total))

    async def delete_topic(self, name: str) -> None:
        """Delete a topic and all its data. Never retried."""
        return await self._run(shared.delete_topic(name))

    # ----- offsets ----------------------------------------------------------------------------

    async def list_offsets(
        self, topic: str, partition: int, at: OffsetSpec = "latest"
    ) -> ListedOffset:
        """The earliest or latest offset of a partition, or the first at or after a time."""
        return await self._run(shared.list_offsets(topic, partition, at))

    # ----- consumer groups --------------------------------------------------------------------

    async def list_groups(self) -> list[GroupSummary]:
        """Every consumer group, sorted by id."""
        return await self._run(groups.list_groups())

    async def describe_group(self, group: str) -> GroupDescription:
        """A group's members and assignments, and per partition its committed offset, end
        offset, lag in records and seconds, and owner. Unknown: GroupNotFoundError."""
        return await self._run(groups.describe_group(group))

    async def committed_offsets(
        self,
        group: str,
        partitions: Mapping[str, Iterable[int]] | None = None,
        *,
        require_committed: bool = False,
    ) -> list[CommittedOffset]:
        """A group's committed offsets: for ``{topic: [partitions]}``, or every committed one.

        An entry whose ``offset`` is None has no commit; with ``require_committed`` that is a
        NoCommittedOffsetError instead (``auto.offset.reset=none``).
        """
        return await self._run(groups.committed_offsets(group, partitions, require_committed))

    async def reset_offsets(
        self,
        group: str,
        topic: str | None = None,
        *,
        to: ResetTarget,
        dry_run: bool = False,
        force: bool = False,
    ) -> ResetResult:
        """Move a group's committed offsets for one topic (or every topic it uses).

        Allowed only while the group has no members (GroupNotEmptyError), unless ``force``.
        With ``dry_run`` nothing is stored and the result previews each partition's target.
        Never retried.
        """
        return await self._run(groups.reset_offsets(group, topic, to, dry_run, force))

    async def delete_group(self, group: str) -> DeletedGroup:
        """Delete a group without members, with its committed offsets. Never retried."""
        return await self._run(groups.delete_group(group))


__all__ = ["AsyncAdmin"]
