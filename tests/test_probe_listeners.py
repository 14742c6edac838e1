"""The local listeners: real sockets bound on 127.0.0.1, ::, 0.0.0.0, found with their options."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator

import pytest

from pnet.probes import listeners as mod
from pnet.probes.listeners import (
    Listener,
    bind_scope,
    listeners_result,
    listening,
    probe_listeners,
    reachable_families,
    serves_port,
)


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


def _listen(
    opened: list[socket.socket],
    host: str,
    *,
    v6only: bool | None = None,
    port: int = 0,
    kind: int = socket.SOCK_STREAM,
) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, kind)
    opened.append(sock)
    if v6only is not None:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
    sock.bind((host, port))
    if kind == socket.SOCK_STREAM:
        sock.listen()
    return int(sock.getsockname()[1])


def _mine(port: int, **filters: object) -> list[Listener]:
    return [
        x
        for x in serves_port(listening(kinds=("tcp", "udp")), port)
        if all(getattr(x, k) == v for k, v in filters.items())
    ]


def test_finds_loopback_and_any_ipv6(sockets: list[socket.socket]) -> None:
    v4 = _listen(sockets, "127.0.0.1")
    v6 = _listen(sockets, "::", v6only=True)
    (lo,) = _mine(v4)
    assert (lo.family, lo.address, lo.pid, lo.kind) == (4, "127.0.0.1", os.getpid(), "tcp")
    assert lo.process and lo.bind == "loopback" and lo.v6only is None
    (any6,) = _mine(v6)
    assert (any6.family, any6.address, any6.bind) == (6, "::", "any-ipv6")
    assert any6.v6only is True


def test_v6only_is_read_per_socket(sockets: list[socket.socket]) -> None:
    dual = _listen(sockets, "::", v6only=False)
    only = _listen(sockets, "::", v6only=True)
    (d,) = _mine(dual)
    (o,) = _mine(only)
    if d.v6only_source != "kernel":
        pytest.skip("sock_diag is not available here")
    assert d.v6only is False and o.v6only is True
    assert (d.accepts(4), d.accepts(6)) == (True, True)
    assert (o.accepts(4), o.accepts(6)) == (False, True)


def test_without_the_kernel_a_pair_on_one_port_means_v6only(
    sockets: list[socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _listen(sockets, "0.0.0.0")
    _listen(sockets, "::", v6only=True, port=port)
    lone = _listen(sockets, "::", v6only=True)
    monkeypatch.setattr(mod, "_kernel_sockets", lambda protocol: None)
    monkeypatch.setattr(mod, "_kernel_v6only", lambda protocol: None)
    monkeypatch.setattr(mod, "_read_bindv6only", lambda: False)
    (paired,) = _mine(port, family=6)
    assert (paired.v6only, paired.v6only_source) == (True, "paired")
    (alone,) = _mine(lone)
    # the system default says dual stack; the socket itself says otherwise, which only the
    # kernel could have told
    assert (alone.v6only, alone.v6only_source) == (False, "default")
    monkeypatch.setattr(mod, "_read_bindv6only", lambda: None)
    (unknown,) = _mine(lone)
    assert unknown.v6only is None and unknown.accepts(4) is None


def test_any_ipv4(sockets: list[socket.socket]) -> None:
    port = _listen(sockets, "0.0.0.0")
    (x,) = _mine(port)
    assert x.bind == "any-ipv4" and (x.accepts(4), x.accepts(6)) == (True, False)
    assert reachable_families(listening(), port) == {4: True, 6: False}


def test_loopback_is_reachable_from_nowhere(sockets: list[socket.socket]) -> None:
    port = _listen(sockets, "127.0.0.1")
    _listen(sockets, "::1", port=port)
    assert {x.bind for x in _mine(port)} == {"loopback"}
    assert reachable_families(listening(), port) == {4: False, 6: False}


def test_udp_sockets_when_asked(sockets: list[socket.socket]) -> None:
    port = _listen(sockets, "127.0.0.1", kind=socket.SOCK_DGRAM)
    assert [x.kind for x in _mine(port)] == ["udp"]
    assert serves_port(listening(), port) == []


@pytest.mark.parametrize(
    "address, family, scope",
    [
        ("127.0.0.1", 4, "loopback"),
        ("127.3.1.9", 4, "loopback"),
        ("::1", 6, "loopback"),
        ("::ffff:127.0.0.1", 6, "loopback"),
        ("0.0.0.0", 4, "any-ipv4"),
        ("::", 6, "any-ipv6"),
        ("10.0.0.5", 4, "specific"),
        ("fd12::5", 6, "specific"),
        ("fe80::1%eth0", 6, "specific"),
    ],
)
def test_bind_scope(address: str, family: int, scope: str) -> None:
    assert bind_scope(Listener(family, address, 80, None, None, None)) == scope


def test_mapped_ipv4_on_a_v6_socket_accepts_ipv4() -> None:
    x = Listener(6, "::ffff:10.0.0.5", 80, None, None, False)
    assert (x.accepts(4), x.accepts(6)) == (True, True)


def test_result_is_json(sockets: list[socket.socket]) -> None:
    port = _listen(sockets, "127.0.0.1")
    r = listeners_result(listening())
    assert r.kind == "listeners" and r.target == "local" and r.ok
    text = json.dumps(r.to_json())
    entry = next(e for e in r.evidence["listeners"] if e["port"] == port)
    assert entry["bind"] == "loopback" and entry["address"] == "127.0.0.1"
    assert str(port) in text
    assert listeners_result([]).detail == "0 listening sockets"


def test_timed_probe(sockets: list[socket.socket]) -> None:
    port = _listen(sockets, "::1")
    r = probe_listeners()
    assert r.kind == "listeners" and r.key == "listeners:local" and r.elapsed_ms > 0
    assert any(e["port"] == port and e["bind"] == "loopback" for e in r.evidence["listeners"])


def test_the_kernel_and_proc_give_the_same_listeners(
    sockets: list[socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = [
        _listen(sockets, "127.0.0.1"),
        _listen(sockets, "::", v6only=False),
        _listen(sockets, "0.0.0.0", kind=socket.SOCK_DGRAM),
    ]
    peer = socket.create_connection(("127.0.0.1", ports[0]))
    sockets.append(peer)
    if mod._kernel_sockets(socket.IPPROTO_TCP) is None:
        pytest.skip("sock_diag is not available here")
    from_kernel = listening(kinds=("tcp", "udp"))
    monkeypatch.setattr(mod, "_kernel_sockets", lambda protocol: None)
    from_proc = listening(kinds=("tcp", "udp"))
    mine = [x for x in from_kernel if x.port in ports]
    assert len(mine) == 3 and all(x.pid == os.getpid() for x in mine)
    assert set(from_kernel) >= set(mine)
    assert [x for x in from_proc if x.port in ports] == mine
