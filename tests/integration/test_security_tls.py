"""TLS and mutual TLS on gRPC and HTTP: TLS works, plaintext is refused, mTLS needs a cert."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request

import pytest

from tests.integration.security_fixtures import Start, mtls, pki, start, tls_settings
from tests.security_helpers import Pki, make_pki
from weir.core.errors import InvalidArgumentError, UnavailableError
from weir.sdk import Admin, Credentials, SchemaRegistryClient

__all__ = ["pki", "start"]


def test_tls_serves_and_plaintext_is_refused(pki: Pki, start: Start) -> None:
    server = start(**tls_settings(pki, client_auth=False))
    with Admin(server.address, credentials=Credentials(ca_file=pki.ca.cert)) as admin:
        assert admin.create_topic("orders", 1).name == "orders"
    with Admin(server.address, timeout_s=2) as plain, pytest.raises(UnavailableError):
        plain.list_topics()
    context = ssl.create_default_context(cafile=str(pki.ca.cert))
    url = server.http_url.replace("http://", "https://") + "/subjects"
    with urllib.request.urlopen(url, context=context, timeout=5) as reply:
        assert reply.status == 200
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(server.http_url + "/subjects", timeout=5)


def test_a_client_that_does_not_trust_the_ca_is_refused(pki: Pki, start: Start, tmp_path) -> None:
    server = start(**tls_settings(pki, client_auth=False))
    other = make_pki(tmp_path / "other", "Other CA")
    untrusting = Credentials(ca_file=other.ca.cert)
    with (
        Admin(server.address, timeout_s=2, credentials=untrusting) as admin,
        pytest.raises(UnavailableError),
    ):
        admin.list_topics()


def test_mtls_requires_a_client_certificate(pki: Pki, start: Start) -> None:
    server = start(**tls_settings(pki))
    with Admin(server.address, credentials=mtls(pki, "alice")) as admin:
        assert "_schemas" in {t.name for t in admin.list_topics(include_internal=True)}
    no_cert = Credentials(ca_file=pki.ca.cert)
    with (
        Admin(server.address, timeout_s=2, credentials=no_cert) as admin,
        pytest.raises(UnavailableError),
    ):
        admin.list_topics()
    with SchemaRegistryClient(server.address, credentials=mtls(pki, "bob")) as registry:
        assert registry.list_subjects() == []
    https = server.http_url.replace("http://", "https://") + "/subjects"
    bare = ssl.create_default_context(cafile=str(pki.ca.cert))
    with pytest.raises((urllib.error.URLError, ConnectionError, ssl.SSLError)):
        urllib.request.urlopen(https, context=bare, timeout=5).read()
    with_cert = ssl.create_default_context(cafile=str(pki.ca.cert))
    with_cert.load_cert_chain(pki.folder / "alice.crt", pki.folder / "alice.key")
    with urllib.request.urlopen(https, context=with_cert, timeout=5) as reply:
        assert reply.status == 200


@pytest.mark.parametrize(
    ("settings", "names"),
    [
        ({"tls_cert_file": "x.crt"}, "tls_key_file"),
        ({"tls_client_auth": "request"}, "tls_client_auth"),
        ({"tls_client_auth": "require"}, "tls_cert_file"),
        ({"auth_tokens_file": "tokens"}, "TLS"),
        ({"super_users": "admin"}, "User:alice"),
    ],
)
def test_half_made_settings_are_refused(start: Start, settings: dict, names: str) -> None:
    with pytest.raises(InvalidArgumentError, match=names):
        start(**settings)


def test_missing_credential_files_are_named(pki: Pki) -> None:
    bad = Credentials(ca_file=pki.folder / "nope.crt")
    with pytest.raises(InvalidArgumentError, match=r"nope\.crt"):
        Admin("127.0.0.1:1", credentials=bad)
    half = Credentials(ca_file=pki.ca.cert, cert_file=pki.folder / "alice.crt")
    with pytest.raises(InvalidArgumentError, match="key_file"):
        Admin("127.0.0.1:1", credentials=half)
    assert "secret" not in repr(Credentials(token="secret"))
