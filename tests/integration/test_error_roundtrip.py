"""Every ErrorReason crosses a real gRPC channel and comes back as the same WeirError class."""

from __future__ import annotations

import grpc
import pytest

from tests.conftest import LoopThread
from weir.core import errors
from weir.core.rpc import rpc
from weir.core.status import from_rpc_error
from weir.v1 import errors_pb2, registry_service_pb2, registry_service_pb2_grpc

REASONS = errors.all_reasons()


def test_every_proto_reason_has_a_class_and_back() -> None:
    proto = {
        name.removeprefix("ERROR_REASON_")
        for name in errors_pb2.ErrorReason.keys()  # noqa: SIM118 - an enum wrapper, not a dict
        if name != "ERROR_REASON_UNSPECIFIED"
    }
    assert proto == set(REASONS)


class Raiser(registry_service_pb2_grpc.RegistryServiceServicer):
    """GetSchema raises the error class whose reason is sent as the subject of the id."""

    @rpc
    async def GetSchema(self, request, context):
        cls = errors.error_class(REASONS[request.id])
        raise cls(f"boom {cls.reason}", metadata={"id": str(request.id)})

    @rpc
    async def ListSubjects(self, request, context):
        raise ValueError("not a WeirError")


async def start_raiser() -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    registry_service_pb2_grpc.add_RegistryServiceServicer_to_server(Raiser(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


@pytest.fixture(scope="module")
def stub():
    thread = LoopThread()
    server, port = thread.call(start_raiser())
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield registry_service_pb2_grpc.RegistryServiceStub(channel)
    thread.call(server.stop(0))
    thread.close()


@pytest.mark.parametrize("index", range(len(REASONS)), ids=REASONS)
def test_reason_round_trips(stub, index: int) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetSchema(registry_service_pb2.GetSchemaRequest(id=index))
    error = from_rpc_error(caught.value)
    cls = errors.error_class(REASONS[index])
    assert type(error) is cls
    assert error.reason == REASONS[index]
    assert caught.value.code() == cls.grpc_code
    assert error.message == f"boom {cls.reason}"
    assert error.metadata == {"id": str(index)}
    assert error.retriable == cls.retriable


def test_unexpected_exception_is_internal_without_leaking(stub) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListSubjects(registry_service_pb2.ListSubjectsRequest())
    error = from_rpc_error(caught.value)
    assert type(error) is errors.InternalError
    assert "not a WeirError" not in error.message
    assert "ListSubjects" in error.message


def test_unreachable_server_is_unavailable_and_retriable() -> None:
    with grpc.insecure_channel("127.0.0.1:1") as channel:
        stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetSchema(registry_service_pb2.GetSchemaRequest(id=1), timeout=2)
    error = from_rpc_error(caught.value)
    assert isinstance(error, errors.UnavailableError)
    assert error.retriable
