"""The HTTP probe against a scripted HTTP server, TLS servers, and peers that misbehave."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import pytest

from pnet.probes import Outcome, get
from pnet.secrets import MASK
from tests import servers

LOOPBACK = servers.LOOPBACK


@pytest.fixture(autouse=True)
def _fast_drip(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(servers, "DRIP_INTERVAL", 0.2)
    yield


@pytest.fixture
async def web() -> AsyncIterator[str]:
    async with servers.http_server() as port:
        yield f"http://{LOOPBACK}:{port}"


@pytest.fixture
async def tls_port(tls_cert: servers.TlsCert) -> AsyncIterator[int]:
    async with servers.http_server(tls=tls_cert) as port:
        yield port


async def test_ok(web: str) -> None:
    r = await get(web + "/")
    assert r.outcome is Outcome.OK
    assert r.kind == "http" and r.target == web + "/"
    ev = r.evidence
    assert ev["status"] == 200 and ev["http_version"] == "HTTP/1.1"
    assert ev["server"] == "pnet-test" and ev["body_bytes"] == 2 and ev["redirects"] == 0
    assert {"connect", "first_byte", "total"} <= set(ev["timings"])
    assert "tls" not in ev["timings"]
    assert "200 OK" in r.detail
    json.dumps(r.to_json())


async def test_5xx_is_http_status(web: str) -> None:
    r = await get(web + "/status/503")
    assert r.outcome is Outcome.HTTP_STATUS
    assert r.evidence["status"] == 503
    assert r.evidence["body_head"] == "status body"
    assert "503 Service Unavailable" in r.detail


async def test_4xx_is_http_status(web: str) -> None:
    r = await get(web + "/status/404")
    assert r.outcome is Outcome.HTTP_STATUS and r.evidence["status"] == 404


async def test_redirects_are_followed(web: str) -> None:
    r = await get(web + "/redirect/3")
    assert r.outcome is Outcome.OK
    assert r.evidence["redirects"] == 3
    assert [hop["location"] for hop in r.evidence["chain"]] == [
        f"{web}/redirect/2",
        f"{web}/redirect/1",
        f"{web}/redirect/0",
    ]
    assert r.evidence["url"] == f"{web}/redirect/0"
    assert "after 3 redirects" in r.detail


async def test_too_many_redirects(web: str) -> None:
    r = await get(web + "/redirect/9", max_redirects=2)
    assert r.outcome is Outcome.PROTOCOL_ERROR
    assert "more than 2 redirects" in r.detail


async def test_no_redirects_followed_when_max_is_zero(web: str) -> None:
    r = await get(web + "/redirect/1", max_redirects=0)
    assert r.outcome is Outcome.OK
    assert r.evidence["status"] == 302 and r.evidence["location"] == "/redirect/0"


async def test_redirect_loop(web: str) -> None:
    r = await get(web + "/loop")
    assert r.outcome is Outcome.PROTOCOL_ERROR
    assert "redirect loop" in r.detail


async def test_drip_ends_by_the_overall_deadline(web: str) -> None:
    r = await get(web + "/drip", timeout=0.7)
    assert r.outcome is Outcome.TIMEOUT
    assert r.evidence["status"] == 200 and r.evidence["phase"] == "body"
    assert "reading the body" in r.detail


async def test_dripping_headers_end_by_the_overall_deadline(web: str) -> None:
    r = await get(web + "/drip-head", timeout=0.7)
    assert r.outcome is Outcome.TIMEOUT
    assert r.evidence["status"] is None and r.evidence["phase"] == "first_byte"


async def test_endless_body_is_capped(web: str) -> None:
    r = await get(web + "/endless", body_limit=32768)
    assert r.outcome is Outcome.OK
    assert r.evidence["body_bytes"] == 32768 and r.evidence["truncated"] is True


async def test_silent_server_times_out(web: str) -> None:
    r = await get(web + "/silent", timeout=0.5)
    assert r.outcome is Outcome.TIMEOUT


@pytest.mark.parametrize("path", ["/close-mid-header", "/http09"])
async def test_not_http_is_a_protocol_error(web: str, path: str) -> None:
    r = await get(web + path)
    assert r.outcome is Outcome.PROTOCOL_ERROR
    assert r.evidence["status"] is None


async def test_http09_noise_is_shown_escaped(web: str) -> None:
    r = await get(web + "/http09")
    assert r.evidence["banner"] == "<html>hello from 1991</html>\\n"
    assert "not HTTP" in r.detail


async def test_garbage_banner_is_a_protocol_error() -> None:
    async with servers.banner_server(b"\x00\x01\x02 hello\r\n\r\n") as port:
        r = await get(f"http://{LOOPBACK}:{port}/")
    assert r.outcome is Outcome.PROTOCOL_ERROR
    assert r.evidence["banner"].startswith("\\x00\\x01\\x02 hello")


async def test_refused() -> None:
    r = await get(f"http://{LOOPBACK}:{servers.free_port()}/")
    assert r.outcome is Outcome.REFUSED
    assert r.evidence["phase"] == "connect"


async def test_connect_timeout_on_a_full_queue() -> None:
    with servers.backlog_full() as port:
        r = await get(f"http://{LOOPBACK}:{port}/", timeout=0.4)
    assert r.outcome is Outcome.TIMEOUT
    assert "connecting" in r.detail


async def test_per_address_request_sends_the_name_in_host(web: str) -> None:
    port = web.rsplit(":", 1)[1]
    url = f"http://api.test:{port}/expect-host?h=api.test:{port}"
    r = await get(url, address=LOOPBACK)
    assert r.outcome is Outcome.OK
    assert r.evidence["address"] == LOOPBACK
    assert r.key == f"http:{url}@{LOOPBACK}"
    assert r.target == url
    wrong = await get(f"http://api.test:{port}/expect-host?h=other", address=LOOPBACK)
    assert wrong.outcome is Outcome.HTTP_STATUS and wrong.evidence["status"] == 421


async def test_per_address_over_ipv6() -> None:
    async with servers.http_server(host="::1") as port:
        r = await get(f"http://api.test:{port}/expect-host?h=api.test:{port}", address="::1")
        assert r.outcome is Outcome.OK
        literal = await get(f"http://[::1]:{port}/expect-host?h=[::1]:{port}", address="::1")
    assert literal.outcome is Outcome.OK


async def test_https_ok_with_sni_and_host_kept(tls_port: int) -> None:
    base = f"https://api.test:{tls_port}"
    r = await get(f"{base}/expect-host?h=api.test:{tls_port}", address=LOOPBACK)
    assert r.outcome is Outcome.OK
    assert r.evidence["tls_server_name"] == "api.test"
    assert r.evidence["tls_version"].startswith("TLS")
    sni = await get(f"{base}/expect-sni?h=api.test", address=LOOPBACK)
    assert sni.outcome is Outcome.OK
    assert "tls" in r.evidence["timings"]


async def test_https_verify_fails_on_a_self_signed_cert(tls_port: int) -> None:
    r = await get(f"https://api.test:{tls_port}/", address=LOOPBACK, verify=True)
    assert r.outcome is Outcome.TLS_ERROR
    assert "certificate" in r.detail.lower()


async def test_plain_text_server_on_an_https_url(web: str) -> None:
    r = await get(web.replace("http://", "https://") + "/")
    assert r.outcome is Outcome.TLS_ERROR
    assert r.evidence["phase"] == "tls"


async def test_tls_server_on_an_http_url(tls_port: int) -> None:
    r = await get(f"http://{LOOPBACK}:{tls_port}/")
    assert r.outcome is Outcome.PROTOCOL_ERROR
    assert r.evidence["speaks_tls"] is True
    assert "use https://" in r.detail


async def test_tls_port_that_never_handshakes() -> None:
    async with servers.silent_server() as port:
        r = await get(f"https://{LOOPBACK}:{port}/", timeout=0.5)
    assert r.outcome is Outcome.TLS_ERROR
    assert "did not finish" in r.detail and r.evidence["phase"] == "tls"


async def test_password_in_url_is_masked(web: str) -> None:
    url = web.replace("http://", "http://user:hunter22@") + "/status/401"
    r = await get(url)
    assert r.outcome is Outcome.HTTP_STATUS
    assert "hunter22" not in json.dumps(r.to_json())
    assert MASK in r.target


@pytest.mark.parametrize(
    "url", ["ftp://x/", "not a url", "http://", "http://[::1/", "http://bad host/", "http://-x/"]
)
async def test_bad_urls_are_errors(url: str) -> None:
    r = await get(url)
    assert r.outcome is Outcome.ERROR


async def test_cancelled_probe_leaves_nothing_open() -> None:
    async with servers.silent_server() as port:
        task = asyncio.create_task(get(f"https://{LOOPBACK}:{port}/", timeout=5))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_unreachable_in_a_namespace_without_a_network() -> None:
    code = (
        "import asyncio, json\n"
        "from pnet.probes import get\n"
        "r = asyncio.run(get('http://127.0.0.1:8080/', timeout=1))\n"
        "print(json.dumps(r.to_json()))\n"
    )
    assert servers.outcomes_without_network(code) == ["unreachable"]
