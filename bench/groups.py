"""Consumer-group rebalance time through a `weir serve` process.

Members are threads that heartbeat on the interval the server gives them (a third of the
session timeout, at most 5 s; 50 ms while their assignment is moving) and drop revoked
partitions before the next heartbeat. Two timings per size:

* join: from the first member's join until every member is stable with a balanced
  assignment (all members start together);
* scale-out: one more member joins a stable group, until it is stable and balanced again.
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

import grpc

from bench._report import report
from bench._server import ServerProcess
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import topic_service_pb2 as ts
from weir.v1 import topic_service_pb2_grpc as ts_grpc


class Member(threading.Thread):
    """A member that only heartbeats."""

    def __init__(self, stub: gs_grpc.GroupServiceStub, group: str, topic: str, session_ms: int):
        super().__init__(daemon=True)
        self.stub, self.group, self.topic, self.session_ms = stub, group, topic, session_ms
        self.member_id, self.epoch = "", 0
        self.owned: list[gp.TopicPartitions] = []
        self.count = 0
        self.stable = False
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            request = gs.HeartbeatRequest(
                group_id=self.group,
                member_id=self.member_id,
                member_epoch=self.epoch,
                owned_partitions=self.owned,
                session_timeout_ms=self.session_ms,
            )
            if not self.member_id:
                request.topics.names.append(self.topic)
            reply = self.stub.Heartbeat(request)
            self.member_id, self.epoch = reply.member_id, reply.member_epoch
            self.owned = list(reply.assignment)
            self.count = sum(len(tp.partitions) for tp in reply.assignment)
            self.stable = not reply.reconciling
            self.halt.wait(reply.heartbeat_interval_ms / 1000)

    def leave(self) -> None:
        self.halt.set()
        self.join(10)
        self.stub.LeaveGroup(gs.LeaveGroupRequest(group_id=self.group, member_id=self.member_id))


def settled(members: list[Member], partitions: int) -> bool:
    counts = [m.count for m in members]
    return (
        all(m.stable for m in members)
        and sum(counts) == partitions
        and max(counts) - min(counts) <= 1
    )


def wait_settled(members: list[Member], partitions: int, timeout_s: float = 120) -> float:
    start = time.perf_counter()
    while not settled(members, partitions):
        if time.perf_counter() - start > timeout_s:
            raise SystemExit(f"{len(members)} members did not settle in {timeout_s} s")
        time.sleep(0.002)
    return time.perf_counter()


def measure(channel: grpc.Channel, size: int, partitions: int, session_ms: int) -> dict[str, Any]:
    topic = f"bench-{size}-{session_ms}"
    ts_grpc.TopicServiceStub(channel).CreateTopic(
        ts.CreateTopicRequest(name=topic, partition_count=partitions)
    )
    stub = gs_grpc.GroupServiceStub(channel)
    members = [Member(stub, topic, topic, session_ms) for _ in range(size)]
    start = time.perf_counter()
    for m in members:
        m.start()
    join_s = wait_settled(members, partitions) - start
    extra = Member(stub, topic, topic, session_ms)
    start = time.perf_counter()
    extra.start()
    members.append(extra)
    scale_s = wait_settled(members, partitions) - start
    for m in members:
        m.leave()
    return {
        "members": size,
        "partitions": partitions,
        "session_ms": session_ms,
        "heartbeat_ms": min(5000, session_ms // 3),
        "join_to_stable_ms": join_s * 1000,
        "scale_out_ms": scale_s * 1000,
    }


def run(sizes: list[int], sessions: list[int]) -> list[dict[str, Any]]:
    rows = []
    with ServerProcess() as server:
        channel = server.channel()
        for session_ms in sessions:
            for size in sizes:
                rows.append(measure(channel, size, 2 * size + 2, session_ms))
        channel.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    args = parser.parse_args(argv)
    sizes, sessions = ([3], [300]) if args.smoke else ([3, 30], [3000, 45_000])
    report(
        "groups",
        run(sizes, sessions),
        notes=[
            "server: `weir serve` process; members: heartbeat-only threads in this process "
            "(raw GroupService.Heartbeat), partitions = 2 x members + 2",
        ],
    )


if __name__ == "__main__":
    main()
