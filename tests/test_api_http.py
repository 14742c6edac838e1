"""Reading a big account under the platforms' rate limits: pages, pacing, retries, bounds.

Against the Render fake's 150 services (tests/apifake/data/render-acme) over HTTPS through a
CONNECT proxy: a 429 or a 500 costs a pause, not the read; a rate limit that never lifts ends
it within a bounded time, in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pnet.errors import SourceError
from pnet.sources import api
from pnet.sources.api.http import Pace, RetryPolicy, _Gate, header_seconds
from tests.apifake.railway import RailwayData, RailwayFake
from tests.apifake.render import RenderData, RenderFake
from tests.apifake.server import RAILWAY_HOST, RENDER_HOST, ApiCa, FakeApis, Response

KEY = "rnd_P4c3dK3y0123456789abcdefghij"
TOKEN = "3c2b1a09-8f7e-4d6c-9b5a-493827160504"


@contextlib.contextmanager
def render_api(
    ca: ApiCa, proxied: Callable[[FakeApis], Path], data: RenderData, **kw: Any
) -> Iterator[tuple[FakeApis, RenderFake]]:
    fake = RenderFake(data, KEY, **kw)
    with FakeApis(ca, {RENDER_HOST: fake}) as apis:
        proxied(apis)
        yield apis, fake


async def test_150_services_over_two_pages(api_ca, proxied, render_acme) -> None:
    lines: list[str] = []
    with render_api(api_ca, proxied, render_acme) as (apis, fake):
        ws = await api.fetch_render(KEY, say=lines.append)
    services = [s for s in ws.services if not s.kind.is_datastore]
    assert len(services) == 150 and len(ws.services) == 153
    pages = [r for r in apis.seen() if r.path == "/v1/services"]
    assert [r.query.get("cursor") is None for r in pages] == [True, False]
    assert [r.query["limit"] for r in pages] == ["100", "100"]
    assert sum(1 for r in apis.seen() if r.path.endswith("/env-vars")) == 149
    assert fake.statuses(429) == 0
    autoscaled = ws.service("inventory")
    assert autoscaled is not None and autoscaled.instances == 3
    assert "inventory runs 3 instances (its setting says 1)" in ws.notes
    assert "Render API: variables of each service 149/149" in lines
    assert lines[-1] == "Render API: 153 services read"


async def test_a_429_costs_a_pause_not_the_read(api_ca, proxied, render_acme) -> None:
    lines: list[str] = []
    with render_api(api_ca, proxied, render_acme) as (apis, fake):
        slow = Response(429, {"message": "rate limited"}, [("Retry-After", "1")])
        fake.faults["/v1/owners"] = [slow]
        started = time.monotonic()
        ws = await api.fetch_render(KEY, say=lines.append)
        took = time.monotonic() - started
    assert len(ws.services) == 153
    assert [r.path for r in apis.seen()][:2] == ["/v1/owners", "/v1/owners"]
    assert took >= 1.0
    assert "Render API: rate limited (429): waiting 1 s" in lines


async def test_a_500_then_success(api_ca, proxied, render_acme) -> None:
    sid = render_acme.services[0]["id"]
    path = f"/v1/services/{sid}/env-vars"
    with render_api(api_ca, proxied, render_acme) as (apis, fake):
        fake.faults[path] = [
            Response(500, {"id": "internal", "message": "internal server error"}),
            Response(503, "<html>upstream unavailable</html>"),
        ]
        ws = await api.fetch_render(KEY, retry=RetryPolicy(base=0.05))
    assert sum(1 for r in apis.seen() if r.path == path) == 3
    first = ws.service(render_acme.services[0]["name"])
    assert first is not None and first.env_var("DATABASE_URL") is not None


async def test_a_rate_limit_that_never_lifts(api_ca, proxied, render_acme) -> None:
    with render_api(api_ca, proxied, render_acme) as (apis, fake):
        fake.always = Response(429, {"message": "rate limited"}, [("Retry-After", "1")])
        started = time.monotonic()
        with pytest.raises(SourceError) as info:
            await api.fetch_render(KEY)
        took = time.monotonic() - started
    message = str(info.value)
    assert message.startswith("api.render.com: GET /owners: rate limited (429) (6 attempts in")
    assert 5.0 <= took < 15.0
    assert len(apis.seen()) == 6 and KEY not in message


async def test_a_wait_longer_than_pnet_waits_ends_at_once(api_ca, proxied, render_acme) -> None:
    with render_api(api_ca, proxied, render_acme) as (apis, fake):
        fake.always = Response(429, {"message": "rate limited"}, [("Retry-After", "3600")])
        started = time.monotonic()
        with pytest.raises(SourceError) as info:
            await api.fetch_render(KEY)
    assert time.monotonic() - started < 3
    message = str(info.value)
    assert "the API asks to wait 60 min, more than pnet waits (90 s in all" in message
    assert len(apis.seen()) == 1


async def test_pacing_stays_under_the_announced_budget(api_ca, proxied, render_acme) -> None:
    """The fake allows 60 requests a second and says so in Ratelimit-*: no 429 is earned."""
    with render_api(api_ca, proxied, render_acme, limit=60, window=1.0) as (apis, fake):
        started = time.monotonic()
        ws = await api.fetch_render(KEY)
        took = time.monotonic() - started
    assert len(ws.services) == 153
    assert fake.statuses(429) == 0
    assert len(apis.seen()) > 120 and took >= 1.5


def test_railway_hourly_budget_spent(api_ca, proxied, railway_shop: RailwayData) -> None:
    fake = RailwayFake(railway_shop, TOKEN, per_hour=2)
    with FakeApis(api_ca, {RAILWAY_HOST: fake}) as apis:
        proxied(apis)
        started = time.monotonic()
        with pytest.raises(SourceError) as info:
            api.load("railway", {"RAILWAY_API_TOKEN": TOKEN})
    assert time.monotonic() - started < 3
    message = str(info.value)
    assert "rate limit budget is spent" in message and "more than pnet waits" in message
    assert fake.operations == ["Projects", "Project"]


# ---- the rules, on their own --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("30", 30.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-4", None),
        ("soon", None),
        ("1000000090", 90.0),  # an epoch time in seconds
        ("1000000090000", 90.0),  # in milliseconds
        ("Sun, 09 Sep 2001 01:48:10 GMT", 90.0),  # an HTTP date
    ],
)
def test_header_seconds(value: str | None, seconds: float | None) -> None:
    got = header_seconds(value, now=1_000_000_000.0)
    assert got == (None if seconds is None else pytest.approx(seconds))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


async def test_without_a_budget_the_window_holds() -> None:
    clock = Clock()
    gate = _Gate(Pace(concurrency=2, per_window=3, window=10.0), clock, clock.sleep)

    async def never(seconds: float, why: str) -> None:
        raise AssertionError("no budget was announced")

    for _ in range(7):
        await gate.enter(never)
        gate.leave()
    assert clock.slept == [10.0, 10.0]


async def test_an_announced_budget_is_spent_then_awaited() -> None:
    clock = Clock()
    gate = _Gate(Pace(concurrency=4, per_window=1, window=60.0), clock, clock.sleep)
    waits: list[tuple[float, str]] = []

    async def wait(seconds: float, why: str) -> None:
        waits.append((seconds, why))
        await clock.sleep(seconds)

    gate.learn(httpx.Headers({"Ratelimit-Remaining": "2", "Ratelimit-Reset": "45"}))
    for _ in range(3):
        await gate.enter(wait)
        gate.leave()
    # two within the budget, unpaced by the window; the third waits for the reset
    assert waits == [(45.0, "the API's rate limit budget is spent")]
    assert clock.slept == [45.0]


async def test_concurrency_is_bounded() -> None:
    gate = _Gate(Pace(concurrency=3, per_window=100, window=1.0), time.monotonic, asyncio.sleep)
    inside = 0
    most = 0

    async def nothing(seconds: float, why: str) -> None:
        return None

    async def one() -> None:
        nonlocal inside, most
        await gate.enter(nothing)
        inside += 1
        most = max(most, inside)
        await asyncio.sleep(0.01)
        inside -= 1
        gate.leave()

    await asyncio.gather(*(one() for _ in range(12)))
    assert most == 3
