"""Consumer groups with real consumer processes: balanced, never two owners, SIGKILL handover.

Each consumer is a separate Python process speaking raw gRPC (heartbeat, fetch its assigned
partitions from the committed offset, write what it processed, commit). The test samples
ownership from DescribeGroup while members join and one is killed with SIGKILL.
"""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc

from tests.integration.broker_helpers import Broker, record
from weir.broker.embedded import EmbeddedServer
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import log_pb2 as lp

CONSUMER = r"""
import sys, time, grpc
from pathlib import Path
from weir.v1 import group_pb2 as gp, group_service_pb2 as gs, group_service_pb2_grpc as gg
from weir.v1 import log_service_pb2 as ls, log_service_pb2_grpc as lg
address, group, topic, out_path, stop_path = sys.argv[1:6]
channel = grpc.insecure_channel(address)
groups, log = gg.GroupServiceStub(channel), lg.LogServiceStub(channel)
member, epoch, owned, positions = "", 0, set(), {}
out = open(out_path, "a")
while not Path(stop_path).exists():
    reply = groups.Heartbeat(gs.HeartbeatRequest(
        group_id=group, member_id=member, member_epoch=epoch, session_timeout_ms=1000,
        topics=gp.TopicNames(names=[topic]),
        owned_partitions=[gp.TopicPartitions(topic=topic, partitions=sorted(owned))]))
    if not member:
        out.write(f"member {reply.member_id} joined\n")
    member, epoch = reply.member_id, reply.member_epoch
    assigned = {p for tp in reply.assignment for p in tp.partitions}
    for p in assigned - owned:
        got = groups.FetchCommittedOffsets(gs.FetchCommittedOffsetsRequest(
            group_id=group, partitions=[gp.TopicPartitions(topic=topic, partitions=[p])]))
        positions[p] = got.offsets[0].offset if got.offsets[0].HasField("offset") else 0
    owned = assigned
    if not owned:
        time.sleep(0.05)
        continue
    fetched = log.Fetch(ls.FetchRequest(max_wait_ms=50, partitions=[
        ls.FetchPartition(topic=topic, partition=p, offset=positions[p], max_bytes=100)
        for p in sorted(owned)]))
    commits = []
    for part in fetched.partitions:
        for r in part.records:
            out.write(f"{member} {part.partition} {r.offset}\n")
        if part.records:
            positions[part.partition] = part.records[-1].offset + 1
            commits.append(gs.OffsetCommit(topic=topic, partition=part.partition,
                                           offset=positions[part.partition]))
    out.flush()
    if commits:
        try:
            groups.CommitOffsets(gs.CommitOffsetsRequest(group_id=group,
                member=gs.MemberIdentity(member_id=member, member_epoch=epoch), offsets=commits))
        except grpc.RpcError:
            pass  # revoked meanwhile: the new owner re-reads from the last commit
    time.sleep(0.05)
groups.LeaveGroup(gs.LeaveGroupRequest(group_id=group, member_id=member))
"""

PARTITIONS = 12
BATCH = 5


def owners(stub: gs_grpc.GroupServiceStub) -> dict[str, set[int]]:
    try:
        group = stub.DescribeGroup(gs.DescribeGroupRequest(group_id="workers")).group
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND:  # NOT_FOUND: before the first member joins
            raise
        return {}
    return {m.member_id: {p for tp in m.assignment for p in tp.partitions} for m in group.members}


def wait_for_shape(
    stub, sizes: list[int], seen: list[dict[str, set[int]]], timeout_s: float
) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        now = owners(stub)
        seen.append(now)
        if sorted(len(p) for p in now.values()) == sizes:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"group never reached {sizes}; last {now}")


def test_consumer_processes_share_partitions_and_survive_sigkill(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    channel = grpc.insecure_channel(server.address)
    broker = Broker(channel)
    stub = gs_grpc.GroupServiceStub(channel)
    broker.create_topic("work", PARTITIONS, value_schema_validation="none")
    produced: collections.Counter[int] = collections.Counter()
    producing = threading.Event()
    producing.set()

    def produce() -> None:  # keep every partition busy while members come and go
        while producing.is_set():
            for p in range(PARTITIONS):
                values = [record(f"{p}-{produced[p] + j}".encode()) for j in range(BATCH)]
                broker.produce("work", values, partition=p, acks=lp.ACKS_LEADER)
                produced[p] += BATCH
            time.sleep(0.05)

    producer = threading.Thread(target=produce)
    producer.start()
    stop = tmp_path / "stop"
    procs: list[subprocess.Popen[bytes]] = []

    def start(n: int) -> None:
        out = tmp_path / f"consumer-{n}.txt"
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    CONSUMER,
                    server.address,
                    "workers",
                    "work",
                    str(out),
                    str(stop),
                ]
            )
        )

    seen: list[dict[str, set[int]]] = []
    try:
        for n in range(3):
            start(n)
        wait_for_shape(stub, [4, 4, 4], seen, 20)
        start(3)
        wait_for_shape(stub, [3, 3, 3, 3], seen, 20)
        before_kill = owners(stub)
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(timeout=10)
        moved_after = wait_for_shape(stub, [4, 4, 4], seen, 20)
        assert moved_after < 6.0, "the killed member's partitions took too long to move"
        time.sleep(0.5)
        producing.clear()
        producer.join(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            group = stub.DescribeGroup(gs.DescribeGroupRequest(group_id="workers")).group
            if group.partitions and all(p.lag_records == 0 for p in group.partitions):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the group did not catch up")
        stop.write_text("stop")
        for proc in procs[1:]:
            assert proc.wait(timeout=20) == 0
    finally:
        producing.clear()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        channel.close()

    for sample in seen:  # never two owners of one partition
        counts = collections.Counter(p for parts in sample.values() for p in parts)
        assert all(c == 1 for c in counts.values()), sample
    lines = [
        ln.split()
        for f in tmp_path.glob("consumer-*.txt")
        for ln in f.read_text().splitlines()
        if not ln.startswith("member ")
    ]
    processed = collections.Counter((int(p), int(o)) for _, p, o in lines)
    expected = {(p, o) for p in range(PARTITIONS) for o in range(produced[p])}
    assert set(processed) == expected, "a record was never processed"
    killed_member = (tmp_path / "consumer-0.txt").read_text().split()[1]
    assert any(m == killed_member for m, _, _ in lines), "the killed member processed nothing"
    killed_partitions = before_kill[killed_member]
    twice = {key for key, count in processed.items() if count > 1}
    assert all(p in killed_partitions for p, _ in twice), "only the killed member's tail is re-read"
