"""Server composition: ``create_server(config)`` wires every service into one grpc.aio server.

One event loop runs gRPC (registry, topics, produce/fetch, grpc health and server
reflection, so grpcurl and `buf curl` work without .proto files) and the Confluent REST API.
The log engine holds every partition, including the registry's ``_schemas`` topic. A
background task runs retention, compaction and segment rolls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import grpc
from grpc_health.v1 import _async as health_aio  # the aio servicer health.py re-exports
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from weir.broker import console
from weir.broker.fetch import FetchService
from weir.broker.gate import RecordGate
from weir.broker.group_servicer import GroupServicer
from weir.broker.groups.service import GroupManager
from weir.broker.limits import LimitedTopicManager, grpc_options
from weir.broker.log.engine import EmbeddedLogStore
from weir.broker.log_servicer import LogServicer
from weir.broker.metrics_server import observability
from weir.broker.produce import ProduceService
from weir.broker.request_decoding import DecodeInterceptor
from weir.broker.schemas_topic import TopicRegistryStore
from weir.broker.security.setup import Security, open_security
from weir.broker.topic_servicer import TopicServicer
from weir.broker.topics import SCHEMAS_TOPIC, TopicManager
from weir.core.config import ServerConfig
from weir.core.errors import UnavailableError
from weir.core.rpc import attach_observer
from weir.registry.rest.server import HttpServer, start_http_server
from weir.registry.schema_limits import SchemaLimits
from weir.registry.service import SchemaRegistry
from weir.registry.servicer import RegistryServicer
from weir.v1 import (
    acl_service_pb2,
    acl_service_pb2_grpc,
    group_service_pb2,
    group_service_pb2_grpc,
    log_service_pb2,
    log_service_pb2_grpc,
    registry_service_pb2,
    registry_service_pb2_grpc,
    topic_service_pb2,
    topic_service_pb2_grpc,
)

log = logging.getLogger("weir.server")

SERVICE_NAMES = (
    registry_service_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,
    topic_service_pb2.DESCRIPTOR.services_by_name["TopicService"].full_name,
    log_service_pb2.DESCRIPTOR.services_by_name["LogService"].full_name,
    group_service_pb2.DESCRIPTOR.services_by_name["GroupService"].full_name,
    acl_service_pb2.DESCRIPTOR.services_by_name["AclService"].full_name,
)


@dataclass(slots=True)
class WeirServer:
    """A started server and what it owns."""

    grpc_server: grpc.aio.Server
    """The running grpc.aio server."""
    port: int
    """The bound gRPC port."""
    registry: SchemaRegistry
    """The schema registry behind RegistryService and the REST API."""
    log_store: EmbeddedLogStore
    """Every partition's log."""
    topics: TopicManager
    """Topic metadata."""
    health: health_aio.HealthServicer
    """The grpc health servicer, set to NOT_SERVING on shutdown."""
    http: HttpServer
    """The REST API server on the same event loop."""
    cleanup: asyncio.Task[None]
    """The retention and compaction loop."""
    groups: GroupManager
    """Consumer groups and committed offsets."""
    group_ticker: asyncio.Task[None]
    """The loop that expires silent group members."""
    security: Security
    """TLS, authentication, ACLs and the audit log."""

    @property
    def http_port(self) -> int:
        """The bound HTTP port."""
        return self.http.port

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop accepting calls, let in-flight ones finish, then close storage."""
        await self.health.enter_graceful_shutdown()
        for task in (self.cleanup, self.group_ticker):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.http.stop()
        await self.grpc_server.stop(grace_s)
        self.registry.close()
        self.security.close()
        await self.log_store.close()


async def _cleanup_loop(store: EmbeddedLogStore, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await store.run_cleanup()
        except Exception:
            log.exception("log cleanup failed; will retry in %.0f s", interval_s)


async def create_server(config: ServerConfig) -> WeirServer:
    """Build, bind and start the server."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    log_store = EmbeddedLogStore(config.data_dir / "log")
    recovery_s = time.perf_counter() - started
    topics = LimitedTopicManager(
        config.data_dir,
        log_store,
        max_topics=config.max_topics,
        max_partitions=config.max_partitions,
    )
    await topics.open()
    schemas = log_store.partition(topics.get(SCHEMAS_TOPIC).partition(0))
    registry = SchemaRegistry(
        TopicRegistryStore(schemas),
        SchemaLimits(config.max_schema_bytes, config.max_schema_depth),
        max_name_bytes=config.max_name_bytes,
    )
    groups = GroupManager(topics, log_store, max_name_bytes=config.max_name_bytes)
    await groups.open()
    try:
        security = await open_security(config, topics, log_store)
    except BaseException:
        registry.close()
        await log_store.close()
        raise
    server = grpc.aio.server(
        # outermost first: undecodable requests are refused before anything else looks
        interceptors=[DecodeInterceptor(), security.interceptor()],
        options=grpc_options(config),  # limits: see broker/limits.py
        maximum_concurrent_rpcs=config.max_concurrent_rpcs,
    )
    obs = observability(config.slow_request_ms, log_store, registry, groups, recovery_s)
    produce = ProduceService(
        topics,
        log_store,
        RecordGate(registry, max_headers=config.max_headers_per_record),
        max_records=config.max_records_per_request,
        max_bytes=config.max_request_bytes,
        max_payload_depth=config.max_payload_depth,
        validation_timeout_ms=config.validation_timeout_ms,
        pattern_timeout_ms=config.pattern_timeout_ms,
        metrics=obs.metrics,
    )
    servicers = (
        (
            registry_service_pb2_grpc.add_RegistryServiceServicer_to_server,
            RegistryServicer(registry),
        ),
        (
            topic_service_pb2_grpc.add_TopicServiceServicer_to_server,
            TopicServicer(topics, log_store),
        ),
        (
            log_service_pb2_grpc.add_LogServiceServicer_to_server,
            LogServicer(
                produce,
                FetchService(topics, log_store, obs.metrics, max_wait_ms=config.max_fetch_wait_ms),
            ),
        ),
        (group_service_pb2_grpc.add_GroupServiceServicer_to_server, GroupServicer(groups)),
        (acl_service_pb2_grpc.add_AclServiceServicer_to_server, security.servicer),
    )
    for add, servicer in servicers:
        add(servicer, server)  # type: ignore[no-untyped-call]
        attach_observer(servicer, obs.metrics)
    health_servicer = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in (*SERVICE_NAMES, ""):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    try:
        port = security.add_port(server, config.grpc_address)
        ui = console.make_console(
            topics=topics,
            log_store=log_store,
            registry=registry,
            groups=groups,
            allow_writes=config.console_allow_writes,
            lag_sample_ms=config.console_lag_sample_ms,
        )
        # Each mount puts its middleware outermost, so security goes last: it runs first.
        mounts = (obs.mount, console.mount(ui), security.http_mount())
        http = await start_http_server(
            registry, config.http_address, mounts=mounts, ssl_context=security.http_ssl
        )
    except (RuntimeError, UnavailableError) as e:
        registry.close()
        security.close()
        await log_store.close()
        if isinstance(e, UnavailableError):
            raise
        raise UnavailableError(f"cannot bind gRPC on {config.grpc_address}: {e}") from None
    await server.start()
    interval_s = config.log_cleanup_interval_ms / 1000
    cleanup = asyncio.create_task(_cleanup_loop(log_store, interval_s))
    group_ticker = asyncio.create_task(groups.run())
    log.info("weir serving gRPC on port %d, data in %s", port, config.data_dir)
    parts = (registry, log_store, topics, health_servicer, http, cleanup, groups, group_ticker)
    return WeirServer(server, port, *parts, security)
