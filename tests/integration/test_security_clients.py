"""Every SDK client takes ``credentials=``: sync and asyncio Admin, registry client, Producer
and Consumer against a server with mutual TLS and ACLs (a consumer group needs group read)."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.security_fixtures import ADMIN, Start, mtls, pki, start, tls_settings
from tests.integration.test_security_acl import RAW, Acls
from tests.security_helpers import Pki
from weir.core.errors import PermissionDeniedError
from weir.sdk import (
    AsyncAdmin,
    AsyncConsumer,
    AsyncProducer,
    AsyncSchemaRegistryClient,
    Consumer,
    Producer,
)

__all__ = ["pki", "start"]


def test_sync_and_async_clients_carry_credentials(pki: Pki, start: Start) -> None:
    server = start(**tls_settings(pki), acl_enabled=True, super_users=ADMIN)
    admin, alice = mtls(pki, "admin"), mtls(pki, "alice")
    with Acls(server.address, admin) as acls:
        acls.add("User:alice", "read", "topic", "orders")
        acls.add("User:alice", "read", "group", "billing")
        acls.add("User:alice", "read", "subject", "orders-value")

    async def as_admin() -> None:
        async with AsyncAdmin(server.address, credentials=admin) as client:
            await client.create_topic("orders", 1, RAW)
        async with AsyncProducer(server.address, credentials=admin, linger_ms=0) as producer:
            for i in range(3):
                await producer.produce_and_wait("orders", f"o-{i}".encode())
        async with AsyncSchemaRegistryClient(server.address, credentials=admin) as registry:
            assert await registry.list_subjects() == []
        async with AsyncConsumer(
            "billing", ["orders"], server=server.address, credentials=alice
        ) as c:
            got = await c.consume(3, timeout=10)
            assert [m.value for m in got] == [b"o-0", b"o-1", b"o-2"]
        async with AsyncSchemaRegistryClient(server.address, credentials=alice) as registry:
            assert await registry.list_subjects() == []  # only what alice may describe

    asyncio.run(as_admin())
    with Consumer("billing", ["orders"], server=server.address, credentials=alice) as consumer:
        consumer.poll(timeout=1)  # joins with alice's certificate; nothing new to read
        consumer.commit()
    with (
        Consumer("other", ["orders"], server=server.address, credentials=alice) as consumer,
        pytest.raises(PermissionDeniedError, match="group 'other'"),
    ):
        poll_a_while(consumer)
    with (
        Producer(server.address, credentials=alice, linger_ms=0) as producer,
        pytest.raises(PermissionDeniedError, match="write topic 'orders'"),
    ):
        producer.produce("orders", b"x").result(timeout=10)


def poll_a_while(consumer: Consumer) -> None:
    """Poll for up to ~10 s (the heartbeat's refusal surfaces in poll)."""
    for _ in range(20):
        consumer.poll(timeout=0.5)
