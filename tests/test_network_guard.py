import socket

import pytest

from tests.conftest import NetworkBlocked


def test_outside_addresses_are_blocked():
    with socket.socket() as sock, pytest.raises(NetworkBlocked):
        sock.connect(("93.184.216.34", 80))


def test_name_lookups_outside_loopback_are_blocked():
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("query1.finance.yahoo.com", 443)


def test_loopback_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
