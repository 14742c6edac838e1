"""Whatever a peer sends and whatever name is asked, a probe answers with an outcome."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pnet.probes import Outcome, ProbeResult, get, hello, ping, resolve
from tests import servers

LOOPBACK = servers.LOOPBACK
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


async def _against(banner: bytes) -> list[ProbeResult]:
    async with servers.banner_server(banner) as port:
        return [
            await ping(LOOPBACK, port, password="fuzz-secret", timeout=0.5),
            await hello(LOOPBACK, port, user="u", password="fuzz-secret", timeout=0.5),
            await hello(LOOPBACK, port, tls="disable", timeout=0.5),
            await get(f"http://{LOOPBACK}:{port}/", timeout=0.5),
        ]


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=200),
        st.sampled_from([b"+", b"-", b"$", b"$-1\r\n", b"*1\r\n", b"R", b"N", b"S", b"E"]).flatmap(
            lambda head: st.binary(max_size=60).map(lambda tail: head + tail)
        ),
        st.binary(max_size=40).map(lambda tail: b"HTTP/1.1 " + tail),
    )
)
def test_peers_sending_anything(banner: bytes) -> None:
    for r in asyncio.run(_against(banner)):
        assert isinstance(r.outcome, Outcome)
        assert "fuzz-secret" not in str(r.to_json())


@FUZZ
@given(st.text(max_size=80))
def test_any_name(dnsmasq: servers.Dnsmasq, name: str) -> None:
    r = asyncio.run(resolve(name, nameserver=dnsmasq.nameserver, timeout=1.0))
    assert isinstance(r.outcome, Outcome)
    assert r.kind == "dns"
