"""Pytest fixtures for the API fakes; a test module imports the ones it uses.

- `api_ca`: the test CA and the API hosts' certificate (once per session)
- `render_acme` / `railway_shop`: the data the fakes serve (tests/apifake/data)
- `proxied(fake)`: point this process at a running `FakeApis` the way a person behind a
  corporate proxy would (`HTTPS_PROXY`, `SSL_CERT_FILE`), with a cache folder of its own
- `odd_api`: both fakes' hosts answered by a `Switch` a fuzz test points at each example
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pnet.sources.api.http import RetryPolicy
from tests.apifake.generate import DATA
from tests.apifake.odd import Switch
from tests.apifake.railway import RailwayData
from tests.apifake.render import RenderData
from tests.apifake.server import RAILWAY_HOST, RENDER_HOST, ApiCa, FakeApis, make_ca

RENDER_KEY = "rnd_T3stK3yValue0123456789abcdef"
RAILWAY_TOKEN = "0f1e2d3c-4b5a-4697-8877-665544332211"
RAILWAY_PROJECT_TOKEN = "9a8b7c6d-5e4f-4321-8fed-cba987654321"
# retries that cost milliseconds, for tests of what happens after them
QUICK = RetryPolicy(attempts=2, base=0.01, cap=0.05, budget=5.0)
PROXY_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


@pytest.fixture(scope="session")
def api_ca(tmp_path_factory: pytest.TempPathFactory) -> ApiCa:
    try:
        return make_ca(tmp_path_factory.mktemp("api-ca"))
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"openssl unavailable: {exc}")


@pytest.fixture
def render_acme() -> RenderData:
    return RenderData.read(DATA / "render-acme")


@pytest.fixture
def railway_shop() -> RailwayData:
    return RailwayData.read(DATA / "railway-shop")


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[FakeApis], Path]:
    """`proxied(fake)` sets this process's proxy and CA to the fake's; the cache folder."""

    def use(fake: FakeApis) -> Path:
        for name in PROXY_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in fake.env.items():
            monkeypatch.setenv(name, value)
        cache = tmp_path / "cache"
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
        return cache

    return use


@pytest.fixture(scope="module")
def odd_api(api_ca: ApiCa) -> Iterator[Switch]:
    switch = Switch()
    with (
        FakeApis(api_ca, {RENDER_HOST: switch, RAILWAY_HOST: switch}) as apis,
        pytest.MonkeyPatch.context() as mp,
    ):
        for name in PROXY_VARIABLES:
            mp.delenv(name, raising=False)
        for name, value in apis.env.items():
            mp.setenv(name, value)
        yield switch


def down_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point HTTPS_PROXY at a loopback port nothing listens on: the network is down."""
    from tests.servers import free_port

    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{free_port()}")


def child_env(fake: FakeApis, cache: Path, **extra: str) -> dict[str, str]:
    """The whole environment of a pnet process run against the fakes (nothing inherited but
    PATH and the interpreter's own)."""
    import os

    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH", "LANG")}
    return {**keep, **fake.env, "XDG_CACHE_HOME": str(cache), "HOME": str(cache), **extra}
