"""A grpc.aio server whose every unary method answers an empty message at once.

``python -m bench._noop_server`` prints its port; bench/produce.py sends it the same
batch-1 Produce requests to measure the gRPC floor: what one Python gRPC round trip costs
on this machine with no work behind it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc


class _Noop(grpc.GenericRpcHandler):
    def service(self, details: Any) -> Any:
        async def answer(request: bytes, context: Any) -> bytes:
            return b""

        return grpc.unary_unary_rpc_method_handler(answer)


async def _main() -> None:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((_Noop(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(_main())
