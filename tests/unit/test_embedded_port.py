"""The embedded server refuses a busy port with one clear message."""

import socket

import pytest
from cakupan.warehouse import embedded


def test_busy_port_is_named_with_the_way_out():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(embedded.EmbeddedError) as info:
            embedded._check_port_free(port)
    message = str(info.value)
    assert f"127.0.0.1:{port} is already in use" in message
    assert "CAKUPAN_PG_PORT" in message and "\n" not in message


def test_free_port_passes():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    embedded._check_port_free(port)
