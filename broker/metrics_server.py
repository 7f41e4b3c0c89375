"""Wiring observability into one server: its own metric registry, collectors and mount."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from weir.broker.groups.service import GroupManager
from weir.broker.log.engine import EmbeddedLogStore
from weir.broker.metrics import BrokerMetrics
from weir.broker.metrics_collectors import GroupCollector, LogCollector, RegistryCollector
from weir.broker.metrics_http import observability_mount
from weir.core.log_format import install_request_ids
from weir.registry.rest.server import Mount
from weir.registry.service import SchemaRegistry


@dataclass(frozen=True, slots=True)
class Observability:
    """What a server needs to be observed."""

    registry: CollectorRegistry
    """This server's metric families (never the process-global default registry)."""
    metrics: BrokerMetrics
    """The hot-path families; also every servicer's RPC observer."""
    mount: Mount
    """Adds ``/metrics`` and the request-id middleware to the HTTP app."""


def observability(
    slow_request_ms: int,
    log_store: EmbeddedLogStore,
    registry: SchemaRegistry,
    groups: GroupManager,
    recovery_s: float,
) -> Observability:
    """Build the server's metric registry with every family and collector."""
    install_request_ids()
    prom = CollectorRegistry()
    metrics = BrokerMetrics(prom, slow_request_ms)
    prom.register(LogCollector(log_store, recovery_s))
    prom.register(RegistryCollector(registry))
    group_collector = GroupCollector(groups)
    prom.register(group_collector)
    mount = observability_mount(prom, group_collector.refresh, slow_request_ms)
    return Observability(prom, metrics, mount)
