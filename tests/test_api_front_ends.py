"""pnet-doctor and the app on a real account's API (the fakes, over HTTPS through a proxy).

- `pnet-doctor --all` on the API reports the same inventory and findings as the fixture the
  fake is equivalent to, both checked live against the lab serving that fixture;
- a source that cannot be read is exit 3 in one line, within a bounded time; a refused key is 2;
- the app opens on the API with the real slugs, then instantly from the cache, and R reads
  the API again;
- inside an instance with a key, the API's workspace is seen from the instance.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pnet import cli, doctor
from pnet.lab import LabThread
from pnet.sources import load_workspace
from pnet.sources.fixture import read
from tests.apifake.fixtures import RAILWAY_TOKEN, RENDER_KEY, child_env
from tests.apifake.generate import DATA
from tests.apifake.railway import RailwayData, RailwayFake
from tests.apifake.render import RenderData, RenderFake
from tests.apifake.server import RAILWAY_HOST, RENDER_HOST, FakeApis, Response

RENDER_FIXTURE = DATA / "render-acme.yaml"
RAILWAY_FIXTURE = DATA / "railway-shop.yaml"
ROOT = Path(__file__).resolve().parent.parent


def run(
    argv: list[str], env: dict[str, str], err: io.StringIO | None = None
) -> tuple[int, str, str]:
    out = io.StringIO()
    err = err if err is not None else io.StringIO()
    rc = doctor.main(argv, stdout=out, stderr=err, environ=env)
    return rc, out.getvalue(), err.getvalue()


def nameservers(lab: LabThread) -> list[str]:
    host, port = lab.nameserver
    args = ["--nameserver", f"{host}:{port}"]
    for net in lab.lab.networks():
        h, p = lab.nameserver_for(net)
        args += ["--nameserver", f"{net}={h}:{p}"]
    return args


def inventory(report: dict[str, Any]) -> dict[str, Any]:
    """The report's workspace, its services in name order (the API lists datastores last)."""
    ws = report["workspace"]
    return {**ws, "services": sorted(ws["services"], key=lambda s: s["name"])}


def findings(report: dict[str, Any]) -> list[tuple[str, ...]]:
    return sorted(
        (f["kind"], f["severity"], f["subject"], str(f.get("service")), f["message"])
        for f in report["findings"]
    )


@pytest.fixture(scope="module")
def render_lab() -> Iterator[LabThread]:
    fx = read(RENDER_FIXTURE)
    lab = LabThread(fx.workspace, fx.lab)
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def railway_lab() -> Iterator[LabThread]:
    fx = read(RAILWAY_FIXTURE)
    lab = LabThread(fx.workspace, fx.lab)
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


def test_doctor_all_on_the_render_api_equals_the_fixture(
    api_ca, proxied, render_acme: RenderData, render_lab: LabThread
) -> None:
    args = ["--all", "--format", "json", "--timeout", "1", *nameservers(render_lab)]
    with FakeApis(api_ca, {RENDER_HOST: RenderFake(render_acme, RENDER_KEY)}) as apis:
        proxied(apis)
        rc, out, err = run(args, {"RENDER_API_KEY": RENDER_KEY})
    assert err == ""
    from_api = json.loads(out)
    rc_fixture, out_fixture, _ = run(["--workspace", str(RENDER_FIXTURE), *args], {})
    from_fixture = json.loads(out_fixture)
    assert len(from_api["workspace"]["services"]) == 153
    assert inventory(from_api) == inventory(from_fixture)
    assert findings(from_api) == findings(from_fixture)
    kinds = {f[0] for f in findings(from_api)}
    assert {"cross-region", "wrong-port", "instance-down", "auth-required"} <= kinds
    assert rc == rc_fixture == 1
    assert RENDER_KEY not in out


def test_doctor_all_on_the_railway_api_equals_the_fixture(
    api_ca, proxied, railway_shop: RailwayData, railway_lab: LabThread
) -> None:
    args = ["--all", "--format", "json", "--timeout", "1", *nameservers(railway_lab)]
    with FakeApis(api_ca, {RAILWAY_HOST: RailwayFake(railway_shop, RAILWAY_TOKEN)}) as apis:
        proxied(apis)
        rc, out, err = run(args, {"RAILWAY_API_TOKEN": RAILWAY_TOKEN})
    assert err == ""
    from_api = json.loads(out)
    rc_fixture, out_fixture, _ = run(["--workspace", str(RAILWAY_FIXTURE), *args], {})
    from_fixture = json.loads(out_fixture)
    assert inventory(from_api) == inventory(from_fixture)
    assert findings(from_api) == findings(from_fixture)
    kinds = {f[0] for f in findings(from_api)}
    assert {"build-phase", "cross-environment", "ipv4-only-bind"} <= kinds
    assert rc == rc_fixture == 1


# ---- exit status 3 and 2 ----------------------------------------------------------------


def test_exit_3_when_the_rate_limit_never_lifts(api_ca, render_acme, tmp_path) -> None:
    fake = RenderFake(render_acme, RENDER_KEY)
    fake.always = Response(429, {"message": "rate limited"}, [("Retry-After", "1")])
    with FakeApis(api_ca, {RENDER_HOST: fake}) as apis:
        env = child_env(apis, tmp_path, RENDER_API_KEY=RENDER_KEY)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pnet.doctor", "--all"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        took = time.monotonic() - started
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "pnet-doctor: error: api.render.com: GET /owners: rate limited (429) (6 attempts in"
    )
    assert RENDER_KEY not in done.stderr
    assert took < 30


def test_the_app_exits_3_before_it_opens(api_ca, render_acme, tmp_path) -> None:
    fake = RenderFake(render_acme, RENDER_KEY)
    sid = render_acme.services[0]["id"]
    fake.faults[f"/v1/services/{sid}/env-vars"] = [
        Response(502, "<html>bad gateway</html>", [("Retry-After", "0")]) for _ in range(6)
    ]
    with FakeApis(api_ca, {RENDER_HOST: fake}) as apis:
        env = child_env(apis, tmp_path, RENDER_API_KEY=RENDER_KEY)
        done = subprocess.run(
            [sys.executable, "-m", "pnet.cli"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith(
        f"pnet: error: api.render.com: GET /services/{sid}/env-vars: the API answered HTTP 502 "
        "(6 attempts in"
    )
    assert len(done.stderr.splitlines()) == 1


def test_a_refused_key_is_exit_2(api_ca, proxied, render_acme) -> None:
    with FakeApis(api_ca, {RENDER_HOST: RenderFake(render_acme, "rnd_other")}) as apis:
        proxied(apis)
        rc, out, err = run(["--all"], {"RENDER_API_KEY": RENDER_KEY})
    assert (rc, out) == (2, "")
    assert err == (
        "pnet-doctor: error: api.render.com: GET /owners: the API refused the key "
        "(401 Unauthorized)\n"
    )


@pytest.mark.parametrize(
    ("argv", "instead"),
    [
        (["--render-api-key", "rnd_s3cretvalue"], "--render-api-key-file"),
        (["--railway-token=s3cretvalue", "--all"], "--railway-token-file"),
    ],
)
def test_keys_on_the_command_line_are_refused(argv: list[str], instead: str) -> None:
    rc, out, err = run(argv, {})
    assert (rc, out) == (2, "")
    assert "shell's history" in err and instead in err and "s3cretvalue" not in err
    assert len(err.splitlines()) == 1


def test_the_help_names_every_exit_status() -> None:
    text = doctor.build_parser().format_help()
    for part in ("2 bad usage", "3 the source could not be read", "--render-api-key-file"):
        assert part in " ".join(text.split())
    assert "--render-api-key KEY" not in text


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_line_while_the_api_is_read(api_ca, proxied, render_acme, tmp_path) -> None:
    key = tmp_path / "key"
    key.write_text(RENDER_KEY)
    with FakeApis(api_ca, {RENDER_HOST: RenderFake(render_acme, RENDER_KEY)}) as apis:
        proxied(apis)
        err = Tty()
        rc, _, text = run(["--render-api-key-file", str(key), "--offline"], {}, err)
        rc_quiet, _, quiet = run(["--render-api-key-file", str(key), "--offline"], {})
    assert rc == rc_quiet == 1
    assert "\r\x1b[KRender API: variables of each service 149/149" in text
    assert text.endswith("\r\x1b[K")
    assert quiet == ""


# ---- the app ---------------------------------------------------------------------------


def _status(app: Any) -> str:
    from textual.widgets import Static

    return str(app.query_one("#statusbar", Static).render())


def _tree_labels(app: Any) -> str:
    from pnet.tui.widgets.service_tree import ServiceTree

    tree = app.query_one(ServiceTree)
    out = []

    def walk(node: Any) -> None:
        out.append(str(node.label))
        for child in node.children:
            walk(child)

    walk(tree.root)
    return "\n".join(out)


def _app(the_plan: cli.Plan) -> Any:
    from pnet.tui.app import PnetApp

    return PnetApp(
        the_plan.workspace,
        source=the_plan.source,
        options=the_plan.options,
        read_at=the_plan.read_at,
        cached=the_plan.cached,
        reload=the_plan.reload,
    )


async def test_the_app_on_the_api_then_from_the_cache(api_ca, proxied, render_acme, tmp_path):
    import asyncio

    fake = RenderFake(render_acme, RENDER_KEY, limit=2000)
    with FakeApis(api_ca, {RENDER_HOST: fake}) as apis:
        folder = proxied(apis)
        environ = {"RENDER_API_KEY": RENDER_KEY, "XDG_CACHE_HOME": str(folder)}
        environ["HOME"] = str(tmp_path)
        args = cli.build_parser().parse_args([])
        first = await asyncio.to_thread(cli.plan, args, environ)
        asked = len(apis.seen())
        assert not first.cached and first.reload is not None and asked > 150
        app = _app(first)
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            labels = _tree_labels(app)
            assert "api-x7f2:8080" in labels and "search-q1w2:9200" in labels
            assert "API read just now · R refreshes" in _status(app)
            assert "(cached)" not in _status(app)

        started = time.monotonic()
        second = await asyncio.to_thread(cli.plan, args, environ)
        assert time.monotonic() - started < 1.0
        assert second.cached and len(apis.seen()) == asked
        app = _app(second)
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            assert "api-x7f2:8080" in _tree_labels(app)
            assert "API read just now (cached) · R refreshes" in _status(app)
            await pilot.press("R")
            for _ in range(200):
                await pilot.pause(0.05)
                if app.reading is None and len(apis.seen()) > asked:
                    break
            assert len(apis.seen()) >= 2 * asked
            assert not app.cached
            assert "API read just now · R refreshes" in _status(app)
            assert "api-x7f2:8080" in _tree_labels(app)

        before = len(apis.seen())
        fresh = await asyncio.to_thread(
            cli.plan, cli.build_parser().parse_args(["--refresh"]), environ
        )
        assert not fresh.cached and len(apis.seen()) == before + asked


# ---- inside an instance, with a key -----------------------------------------------------


def _render_instance(render_acme: RenderData, tmp_path: Path) -> dict[str, str]:
    api = next(s for s in render_acme.services if s["name"] == "api")
    return {
        "RENDER": "true",
        "RENDER_SERVICE_ID": api["id"],
        "RENDER_SERVICE_NAME": "api-x7f2",
        "RENDER_SERVICE_TYPE": "web",
        "RENDER_EXTERNAL_URL": "https://api-x7f2.onrender.com",
        "RENDER_INSTANCE_ID": f"{api['id']}-abcde",
        "PORT": "8080",
        "DATABASE_URL": "postgresql://acme:Hx9sK2pQ7vW4@dpg-d0a1b2c3d4e5f6g7h8i9-a/acme",
        "SEARCH_URL": "http://search-q1w2:9200",
        "HOME": str(tmp_path),
        "RENDER_API_KEY": RENDER_KEY,
    }


def test_inside_a_render_instance_with_a_key(api_ca, proxied, render_acme, tmp_path) -> None:
    environ = _render_instance(render_acme, tmp_path)
    with FakeApis(api_ca, {RENDER_HOST: RenderFake(render_acme, RENDER_KEY)}) as apis:
        folder = proxied(apis)
        environ["XDG_CACHE_HOME"] = str(folder)
        ws, me = load_workspace(environ=environ, cwd=tmp_path, cache="write")
        assert me is not None and me.name == "api"
        assert (me.region, me.plan, me.instances, me.ports) == ("oregon", "starter", 2, (8080,))
        assert len(ws.services) == 153 and ws.service("billing") is not None
        assert ws.source == "Render API (api.render.com) + this instance's environment"
        search = me.env_var("SEARCH_URL")
        assert search is not None and search.value == "http://search-q1w2:9200"  # its own
        assert me.env_var("AUTH_URL") is None
        assert any("not in this instance's environment" in n and "AUTH_URL" in n for n in ws.notes)
        assert not any("give --blueprint FILE" in n for n in ws.notes)
        guessing = {k: v for k, v in environ.items() if k != "RENDER_SERVICE_TYPE"}
        ws, me = load_workspace(environ=guessing, cwd=tmp_path, cache="read")
        assert me is not None and me.kind.value == "web"
        assert not any("RENDER_SERVICE_TYPE" in n for n in ws.notes)  # the API says what it is

        rc, out, err = run(["--offline", "--format", "json"], environ)
        assert rc == 0 and err == ""
        report = json.loads(out)
        assert report["source"]["name"] == "api" and len(report["workspace"]["services"]) == 153
        subjects = {f["subject"] for f in report["findings"]}
        assert "SEARCH_URL" not in subjects  # 9200 is right; the API's 9300 is not read

        the_plan = cli.plan(cli.build_parser().parse_args([]), environ)
        assert the_plan.instance and the_plan.source is not None
        assert the_plan.source.name == "api" and the_plan.cached


def test_an_instance_the_api_does_not_list(api_ca, proxied, render_acme, tmp_path) -> None:
    environ = _render_instance(render_acme, tmp_path)
    environ["RENDER_SERVICE_ID"] = "srv-notinthisaccount00"
    environ["RENDER_SERVICE_NAME"] = "stranger-q9q9"
    del environ["RENDER_SERVICE_TYPE"]
    with FakeApis(api_ca, {RENDER_HOST: RenderFake(render_acme, RENDER_KEY)}) as apis:
        proxied(apis)
        ws, me = load_workspace(environ=environ, cwd=tmp_path)
    assert me is not None and me.host == "stranger-q9q9" and ws.services[0] is me
    assert len(ws.services) == 154
    assert any("is not among the services the API lists" in n for n in ws.notes)
    assert any("RENDER_SERVICE_TYPE is not set: taken as a web service" in n for n in ws.notes)


def test_inside_a_railway_instance_with_a_token(api_ca, proxied, railway_shop, tmp_path):
    env_id = next(e["id"] for e in railway_shop.project["environments"] if e["name"] == "staging")
    web = next(s for s in railway_shop.project["services"] if s["name"] == "web")
    environ = {
        "RAILWAY_SERVICE_ID": web["id"],
        "RAILWAY_SERVICE_NAME": "web",
        "RAILWAY_ENVIRONMENT_NAME": "staging",
        "RAILWAY_ENVIRONMENT_ID": env_id,
        "RAILWAY_PROJECT_NAME": "shop",
        "RAILWAY_PRIVATE_DOMAIN": "web.railway.internal",
        "RAILWAY_PUBLIC_DOMAIN": "web-staging.up.railway.app",
        "PORT": "3000",
        "API_URL": "http://api-staging.railway.internal:8800",
        "SEARCH_URL": "http://search.railway.internal:7700",
        "RAILWAY_API_TOKEN": RAILWAY_TOKEN,
        "HOME": str(tmp_path),
    }
    with FakeApis(api_ca, {RAILWAY_HOST: RailwayFake(railway_shop, RAILWAY_TOKEN)}) as apis:
        proxied(apis)
        ws, me = load_workspace(environ=environ, cwd=tmp_path)
        the_plan = cli.plan(cli.build_parser().parse_args([]), environ)
    assert me is not None and (me.name, me.environment) == ("web", "staging")
    assert len(ws.services) == 9 and set(ws.environments) == {"production", "staging"}
    search = me.env_var("SEARCH_URL")
    assert search is not None and search.value == "http://search.railway.internal:7700"
    assert not any("RAILWAY_API_TOKEN" in n for n in ws.notes)
    assert the_plan.instance and the_plan.source is not None and the_plan.source.name == "web"


def test_a_key_beside_the_fixture_does_not_read_the_api() -> None:
    ws, me = load_workspace(workspace=ROOT / "fixtures" / "render-acme.yaml")
    assert ws.name == "acme" and me is None


def test_the_fakes_data_is_what_the_generator_writes(tmp_path: Path) -> None:
    """The JSON the fakes answer from and the fixtures they equal come from one generator."""
    from tests.apifake.generate import generate

    written = {p.relative_to(tmp_path) for p in generate(tmp_path)}
    committed = {p.relative_to(DATA) for p in DATA.rglob("*") if p.is_file()}
    assert written == committed
    stale = [str(p) for p in written if (tmp_path / p).read_bytes() != (DATA / p).read_bytes()]
    assert stale == [], "run: python -m tests.apifake.generate"
