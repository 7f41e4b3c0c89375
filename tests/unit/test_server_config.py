"""ServerConfig validation: every bad value is refused naming its key and what to use."""

from __future__ import annotations

import pytest

from weir.core.config import load_config
from weir.core.errors import InvalidArgumentError


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("grpc_address", "5", "not HOST:PORT"),
        ("grpc_address", "nohost", "not HOST:PORT"),
        ("grpc_address", "127.0.0.1:", "not HOST:PORT"),
        ("http_address", "127.0.0.1:99999", "port from 0 to 65535"),
        ("http_address", ":8081", "not HOST:PORT"),
        ("http_address", "127.0.0.1:-1", "not HOST:PORT"),
        ("shutdown_grace_ms", -1, "is negative"),
        ("slow_request_ms", -5, "is negative"),
        ("log_cleanup_interval_ms", 0, "not positive"),
        ("console_lag_sample_ms", -1, "not positive"),
        ("max_topics", 0, "not positive"),
        ("max_topics", "ten", "not a valid int"),
        ("log_format", "xml", "not one of"),
        ("acl_enabled", "perhaps", "not true or false"),
    ],
)
def test_bad_values_name_their_key(key: str, value: object, says: str) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        load_config(env={}, overrides={key: value})
    assert f"config key {key}" in refused.value.message
    assert says in refused.value.message


@pytest.mark.parametrize("address", ["127.0.0.1:0", "0.0.0.0:65535", "[::1]:50051", "host:1"])
def test_good_addresses_are_kept(address: str) -> None:
    assert load_config(env={}, overrides={"grpc_address": address}).grpc_address == address
    assert load_config(env={}, overrides={"http_address": address}).http_address == address
