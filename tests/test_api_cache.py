"""The API cache: the second start is instant, no secret and no key is ever written."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

from pnet.model import Platform
from pnet.secrets import MASK, secrets_in
from pnet.sources import api, load
from pnet.sources.api import cache
from tests.apifake.fixtures import RENDER_KEY
from tests.apifake.render import RenderData, RenderFake
from tests.apifake.server import RENDER_HOST, FakeApis

ENV = {"RENDER_API_KEY": RENDER_KEY}


def _secrets(data: RenderData) -> set[str]:
    found = set()
    for variables in data.env_vars.values():
        for var in variables:
            found.update(secrets_in(var["key"], var["value"]))
    for info in data.connection_info.values():
        if info.get("password"):
            found.add(info["password"])
    return found


def test_the_second_start_reads_the_cache(api_ca, proxied, render_acme) -> None:
    fake = RenderFake(render_acme, RENDER_KEY)
    with FakeApis(api_ca, {RENDER_HOST: fake}) as apis:
        folder = proxied(apis)
        environ = {**ENV, "XDG_CACHE_HOME": str(folder)}
        first = load(environ=environ, cache="read")
        asked = len(apis.seen())
        started = time.monotonic()
        second = load(environ=environ, cache="read")
        took = time.monotonic() - started
        assert len(apis.seen()) == asked  # not one request
    assert first.read_at is not None and not first.cached
    assert second.cached and second.read_at == first.read_at
    assert took < 1.0
    files = list((folder / "pnet" / "api").iterdir())
    assert len(files) == 1 and files[0].name.startswith("render-")
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700
    text = files[0].read_text()
    assert RENDER_KEY not in text and RENDER_KEY not in files[0].name
    leaked = [s for s in _secrets(render_acme) if s in text]
    assert leaked == [] and _secrets(render_acme)
    a, b = first.workspace, second.workspace
    assert [
        (s.name, s.kind, s.host, s.region, s.plan, s.ports, s.instances) for s in a.services
    ] == [(s.name, s.kind, s.host, s.region, s.plan, s.ports, s.instances) for s in b.services]
    api_a, api_b = a.service("api"), b.service("api")
    assert api_a is not None and api_b is not None
    assert api_b.env_var("SEARCH_URL") == api_a.env_var("SEARCH_URL")
    db_url = api_b.env_var("DATABASE_URL")
    assert db_url is not None and db_url.value is None
    assert f"postgresql://acme:{MASK}@dpg-d0a1b2c3d4e5f6g7h8i9-a/acme" in db_url.note
    assert cache.NOT_KEPT in db_url.note
    session = api_b.env_var("SESSION_SECRET")
    assert session is not None and session.value is None
    db = b.service("acme-db")
    assert db is not None and db.password is None and db.user == "acme"
    assert second.secrets_left_out == sum(
        1 for s in a.services for v in s.env if v.value and secrets_in(v.key, v.value)
    )


def test_refresh_reads_the_api_again(api_ca, proxied, render_acme) -> None:
    fake = RenderFake(render_acme, RENDER_KEY)
    with FakeApis(api_ca, {RENDER_HOST: fake}) as apis:
        folder = proxied(apis)
        environ = {**ENV, "XDG_CACHE_HOME": str(folder)}
        first = load(environ=environ, cache="read")
        asked = len(apis.seen())
        again = load(environ=environ, cache="write")
        assert len(apis.seen()) == 2 * asked
    assert not again.cached and again.read_at is not None and first.read_at is not None
    assert again.read_at >= first.read_at


def test_a_stale_or_broken_cache_is_not_used(tmp_path: Path, render_acme) -> None:
    from pnet.sources.fixture import load as load_fixture
    from tests.apifake.generate import DATA

    ws = load_fixture(DATA / "render-acme.yaml")
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    where = cache.entry(Platform.RENDER, RENDER_KEY, None, env)
    assert where is not None and where.parent == tmp_path / "pnet" / "api"
    read_at = cache.save(where, ws, now=1000.0)
    assert cache.load(where, now=1000.0 + cache.TTL - 1) is not None
    assert cache.load(where, now=read_at + cache.TTL + 1) is None
    assert cache.load(where, now=read_at - 5) is None  # a clock that went back
    where.write_text("{not json")
    assert cache.load(where, now=1000.0) is None
    where.write_text(json.dumps({"format": 99, "read_at": 1000.0, "workspace": {}}))
    assert cache.load(where, now=1000.0) is None
    where.write_text(json.dumps({"format": cache.FORMAT, "read_at": 1000.0, "workspace": []}))
    assert cache.load(where, now=1000.0) is None


def test_one_file_per_account_and_workspace(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    a = cache.entry(Platform.RENDER, "rnd_a", None, env)
    b = cache.entry(Platform.RENDER, "rnd_b", None, env)
    c = cache.entry(Platform.RENDER, "rnd_a", "other-workspace", env)
    d = cache.entry(Platform.RAILWAY, "rnd_a", None, env)
    assert len({a, b, c, d}) == 4
    assert a is not None and a.parent == tmp_path / ".cache" / "pnet" / "api"
    assert cache.entry(Platform.RENDER, "rnd_a", None, {}) is None


def test_no_home_no_cache(api_ca, proxied, render_acme, tmp_path: Path) -> None:
    fake = RenderFake(render_acme, RENDER_KEY)
    with FakeApis(api_ca, {RENDER_HOST: fake}) as apis:
        proxied(apis)
        read = api.load("render", ENV, cache_use="read")
        read = api.load("render", ENV, cache_use="read")
    assert not read.cached
