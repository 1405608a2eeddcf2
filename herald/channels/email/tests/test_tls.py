"""STARTTLS and implicit TLS against a fake SMTP server holding a certificate of a test CA (trustme): the
certificate is verified, the login and the message go inside TLS."""

import ssl

import pytest
import trustme

from herald.channels.base import PermanentSendError
from herald.channels.models import Channel
from herald.channels.registry import get_type
from herald.testing.factories import make_msg
from herald.testing.providers.email import FakeSMTP

EMAIL = get_type("email")


@pytest.fixture
def ca():
    return trustme.CA()


@pytest.fixture
def server_certificate(ca):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def trusted(ca, tmp_path, monkeypatch):
    """Herald's TLS trusts the test CA, as a system would trust its CAs (OpenSSL reads SSL_CERT_FILE)."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("SSL_CERT_FILE", str(path))


def channel_on(workspace, smtp):
    return Channel.objects.create(
        workspace=workspace, channel_type="email", name="Mail", address="a@example.org", schemes=["mailto"],
        config=EMAIL.validate_config(smtp.channel_config()),
    )  # fmt: skip


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_a_message_goes_over_verified_tls(workspace, ann, server_certificate, trusted, tls):
    with FakeSMTP(tls=tls, certificate=server_certificate) as smtp:
        channel = channel_on(workspace, smtp)
        EMAIL.send(channel, make_msg(ann, "Over TLS", channel=channel))

    assert smtp.logins == [("PLAIN", "herald")]
    assert [received.message["Subject"] for received in smtp.messages] == ["Over TLS"]


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_a_certificate_of_an_unknown_ca_fails_the_message(workspace, ann, server_certificate, tls):
    with FakeSMTP(tls=tls, certificate=server_certificate) as smtp:
        channel = channel_on(workspace, smtp)
        with pytest.raises(PermanentSendError) as raised:
            EMAIL.send(channel, make_msg(ann, "Over TLS", channel=channel))

    assert raised.value.detail == (
        f"SMTP server 127.0.0.1:{smtp.port}: its TLS certificate is not trusted "
        "(unable to get local issuer certificate)"
    )
    assert (smtp.logins, smtp.messages) == ([], [])
