"""Row 36 (trusted path): TLS only, no plaintext listener, a tampered record aborts, TLS >= 1.2;
plain HTTP only behind --insecure-no-tls, which is audited."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress

import httpx
import pytest

from tests.helpers.server import RunningServer, running_server

APPLICATION_DATA = 23


@contextmanager
def tls_proxy(target_port: int, *, tamper: bool) -> Iterator[int]:
    """A TCP relay to the server; with ``tamper`` it flips one byte inside the first
    application-data record the server sends (the encrypted HTTP response)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()
    opened: list[socket.socket] = []
    pumps: list[threading.Thread] = []

    def pump(source: socket.socket, sink: socket.socket, flip: bool) -> None:
        buffer = b""
        done = not flip
        try:
            while chunk := source.recv(65536):
                if done:
                    sink.sendall(chunk)
                    continue
                buffer += chunk
                # Walk whole TLS records: 1 byte type, 2 version, 2 length, then the payload.
                while len(buffer) >= 5:
                    length = int.from_bytes(buffer[3:5], "big")
                    if len(buffer) < 5 + length:
                        break
                    record, buffer = bytearray(buffer[: 5 + length]), buffer[5 + length :]
                    if record[0] == APPLICATION_DATA and not done:
                        record[5 + length // 2] ^= 0x01
                        done = True
                    sink.sendall(bytes(record))
                if done and buffer:
                    sink.sendall(buffer)
                    buffer = b""
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(("127.0.0.1", target_port))
            opened.extend((client, upstream))
            for args in ((client, upstream, False), (upstream, client, tamper)):
                pumps.append(threading.Thread(target=pump, args=args, daemon=True))
                pumps[-1].start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join()
        for end in opened:
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        for pumping in pumps:
            pumping.join(timeout=5)
        for end in opened:
            end.close()
        listener.close()


def _port(server: RunningServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _tls12_client(server: RunningServer, port: int) -> httpx.Client:
    context = server.ssl_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    return httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=context, timeout=10)


def test_untampered_relay_carries_the_request(server: RunningServer) -> None:
    """The positive control: the same relay without tampering delivers the answer."""
    with tls_proxy(_port(server), tamper=False) as port, _tls12_client(server, port) as client:
        assert client.get("/healthz").status_code == 200


def test_flipped_byte_in_a_tls_record_aborts_the_exchange(server: RunningServer) -> None:
    """One bit flipped in the encrypted response: the client refuses it (bad record MAC)."""
    with (
        tls_proxy(_port(server), tamper=True) as port,
        _tls12_client(server, port) as client,
        pytest.raises(httpx.TransportError, match="BAD_RECORD_MAC"),
    ):
        client.get("/healthz")


def test_no_plaintext_http_answers_on_the_api_port(server: RunningServer) -> None:
    """A plain HTTP request to the port gets no HTTP response."""
    with closing(socket.create_connection(("127.0.0.1", _port(server)), timeout=5)) as raw:
        raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        try:
            answer = raw.recv(1024)
        except (ConnectionResetError, TimeoutError):
            answer = b""
    assert not answer.startswith(b"HTTP/")


def test_tls_older_than_1_2_is_refused(server: RunningServer) -> None:
    """A client limited to TLS 1.1 (and willing to use it) cannot complete a handshake."""
    context = server.ssl_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with (
        httpx.Client(base_url=server.url, verify=context, timeout=10) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.get("/healthz")


def test_a_client_that_does_not_trust_the_certificate_is_refused(server: RunningServer) -> None:
    """The generated certificate is self-signed: only a client pinning it connects."""
    with (
        httpx.Client(base_url=server.url, timeout=10) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.get("/healthz")
    with server.client() as pinned:
        assert pinned.get("/healthz").status_code == 200


def test_server_listens_only_where_told(server: RunningServer) -> None:
    """The API's process listens on exactly one socket: the loopback address and port given."""
    import subprocess

    listing = subprocess.run(
        ["ss", "-Hltnp"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    mine = [line.split()[3] for line in listing if f"pid={server.process.pid}," in line]
    assert mine == [f"127.0.0.1:{_port(server)}"]


def test_insecure_no_tls_serves_plain_http_and_is_audited(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Plain HTTP exists only behind --insecure-no-tls; starting so leaves an audit entry."""
    with running_server(tmp_path_factory.mktemp("plain"), tls=False) as plain:
        with plain.client() as client:
            assert client.get("/healthz").status_code == 200
        with closing(plain.service()) as service:
            actions = [e.record().action for e in service.store.audit_entries()]
    assert "serve.insecure-no-tls" in actions
