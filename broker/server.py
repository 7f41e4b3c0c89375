"""Server composition: ``create_server(config)`` wires every service into one grpc.aio server.

The server carries grpc health and server reflection, so grpcurl and `buf curl` work
without .proto files. It binds the configured address (port 0 picks one) and reports the
bound port.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from grpc_health.v1 import _async as health_aio  # the aio servicer health.py re-exports
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from weir.core.config import ServerConfig
from weir.core.errors import UnavailableError
from weir.registry.rest.server import HttpServer, start_http_server
from weir.registry.service import SchemaRegistry
from weir.registry.servicer import RegistryServicer
from weir.registry.store import FileRegistryStore
from weir.v1 import registry_service_pb2, registry_service_pb2_grpc

log = logging.getLogger("weir.server")

SERVICE_NAMES = (registry_service_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,)


@dataclass(slots=True)
class WeirServer:
    """A started server and what it owns."""

    grpc_server: grpc.aio.Server
    """The running grpc.aio server."""
    port: int
    """The bound gRPC port."""
    registry: SchemaRegistry
    """The schema registry behind RegistryService."""
    health: health_aio.HealthServicer
    """The grpc health servicer, set to NOT_SERVING on shutdown."""
    http: HttpServer
    """The REST API server on the same event loop."""

    @property
    def http_port(self) -> int:
        """The bound HTTP port."""
        return self.http.port

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop accepting calls, let in-flight ones finish, then close storage."""
        await self.health.enter_graceful_shutdown()
        await self.http.stop()
        await self.grpc_server.stop(grace_s)
        self.registry.close()


async def create_server(config: ServerConfig) -> WeirServer:
    """Build, bind and start the server."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    registry = SchemaRegistry(FileRegistryStore(config.data_dir / "registry" / "schemas.log"))
    server = grpc.aio.server()
    registry_service_pb2_grpc.add_RegistryServiceServicer_to_server(  # type: ignore[no-untyped-call]
        RegistryServicer(registry), server
    )
    health_servicer = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in (*SERVICE_NAMES, ""):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    try:
        port = server.add_insecure_port(config.grpc_address)
    except RuntimeError as e:
        registry.close()
        raise UnavailableError(f"cannot bind gRPC on {config.grpc_address}: {e}") from None
    try:
        http = await start_http_server(registry, config.http_address)
    except UnavailableError:
        registry.close()
        raise
    await server.start()
    log.info("weir serving gRPC on port %d, data in %s", port, config.data_dir)
    return WeirServer(server, port, registry, health_servicer, http)
