"""Render's REST API read for real: HTTPS through a CONNECT proxy to a fake that answers in the
documented shapes (tests.apifake.render): the workspace, cursors, workspaces, keys, errors."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pnet.errors import InputError, SourceError
from pnet.model import Kind, Platform
from pnet.sources import api, load_workspace
from pnet.sources.api import http, render
from tests.apifake.fixtures import QUICK, down_proxy
from tests.apifake.odd import ODD_JSON, Switch, one_line
from tests.apifake.render import RenderData, RenderFake
from tests.apifake.server import RENDER_HOST, ApiCa, FakeApis, Request, Response

Proxied = Callable[[FakeApis], Path]

KEY = "rnd_k3yS3cr3tValue0123456789"
OWNER = {
    "id": "tea-c9k2m4n6p8r0s2t4v6x8",
    "name": "Acme",
    "email": "ops@acme.example",
    "type": "team",
}


def render_service(
    name: str, slug: str, kind: str, details: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    sid = "srv-" + (slug.replace("-", "") + "0" * 20)[:20]
    return {
        "id": sid,
        "name": name,
        "slug": slug,
        "type": kind,
        "ownerId": OWNER["id"],
        "repo": "https://github.com/acme/platform",
        "branch": "main",
        "autoDeploy": "yes",
        "suspended": "not_suspended",
        "suspenders": [],
        "rootDir": "",
        "notifyOnFail": "default",
        "createdAt": "2026-05-01T10:00:00.000000Z",
        "updatedAt": "2026-11-20T08:30:00.000000Z",
        "dashboardUrl": f"https://dashboard.render.com/web/{sid}",
        "serviceDetails": details,
        **extra,
    }


SERVICES = [
    render_service(
        "api",
        "api-x7f2",
        "web_service",
        {
            "env": "python",
            "runtime": "python",
            "plan": "standard",
            "region": "oregon",
            "numInstances": 2,
            "openPorts": [{"port": 8080, "protocol": "TCP"}],
            "healthCheckPath": "/healthz",
            "url": "https://api-x7f2.onrender.com",
            "sshAddress": "srv-apix7f200000000000000@ssh.oregon.render.com",
            "envSpecificDetails": {
                "buildCommand": "pip install -r requirements.txt",
                "startCommand": "gunicorn app:app",
            },
            "pullRequestPreviewsEnabled": "no",
            "previews": {"generation": "off"},
            "buildPlan": "starter",
        },
    ),
    render_service(
        "search",
        "search-q1w2",
        "private_service",
        {
            "env": "image",
            "runtime": "image",
            "plan": "standard",
            "region": "oregon",
            "numInstances": 1,
            "openPorts": [{"port": 9200, "protocol": "TCP"}, {"port": 9300, "protocol": "TCP"}],
            "url": "search-q1w2:9200",
            "sshAddress": "srv-searchq1w20000000000@ssh.oregon.render.com",
        },
    ),
    render_service(
        "mailer",
        "mailer-j8k9",
        "background_worker",
        {
            "env": "node",
            "runtime": "node",
            "plan": "starter",
            "region": "oregon",
            "numInstances": 1,
        },
    ),
    render_service(
        "nightly",
        "nightly-h2g3",
        "cron_job",
        {
            "env": "python",
            "runtime": "python",
            "plan": "starter",
            "region": "oregon",
            "schedule": "0 3 * * *",
            "lastSuccessfulRunAt": "2026-11-30T03:00:12Z",
        },
    ),
    render_service(
        "docs",
        "docs-s2d3",
        "static_site",
        {
            "url": "https://docs-s2d3.onrender.com",
            "buildCommand": "npm run build",
            "publishPath": "dist",
        },
    ),
    render_service(
        "preview",
        "preview-n5m6",
        "web_service",
        {
            "runtime": "node",
            "plan": "free",
            "region": "frankfurt",
            "numInstances": 1,
            "openPorts": [],
            "url": "https://preview-n5m6.onrender.com",
        },
    ),
    render_service(
        "legacy",
        "legacy-p0p0",
        "web_service",
        {
            "runtime": "node",
            "plan": "starter",
            "region": "ohio",
            "numInstances": 1,
            "openPorts": [{"port": 10000, "protocol": "TCP"}],
            "url": "https://legacy-p0p0.onrender.com",
        },
        suspended="suspended",
        suspenders=["user"],
    ),
]
POSTGRES = [
    {
        "id": "dpg-d0a1b2c3d4e5f6g7h8i9-a",
        "name": "acme-db",
        "databaseName": "acme",
        "databaseUser": "acme",
        "plan": "basic_1gb",
        "region": "oregon",
        "status": "available",
        "role": "primary",
        "version": "16",
        "ipAllowList": [{"cidrBlock": "0.0.0.0/0", "description": "everywhere"}],
        "highAvailabilityEnabled": False,
        "readReplicas": [{"id": "dpg-d0a1b2c3d4e5f6g7h8i9-b", "name": "acme-db-replica"}],
        "diskSizeGB": 15,
        "owner": OWNER,
        "dashboardUrl": "https://dashboard.render.com/d/dpg-d0a1b2c3d4e5f6g7h8i9-a",
        "createdAt": "2026-05-01T10:00:00Z",
        "updatedAt": "2026-11-01T10:00:00Z",
    }
]
KEY_VALUE = [
    {
        "id": "red-c0d1e2f3g4h5i6j7k8l9",
        "name": "cache",
        "plan": "starter",
        "region": "oregon",
        "status": "available",
        "version": "8.1.4",
        "ipAllowList": [],
        "options": {"maxmemoryPolicy": "allkeys_lru"},
        "owner": OWNER,
        "dashboardUrl": "https://dashboard.render.com/r/red-c0d1e2f3g4h5i6j7k8l9",
        "createdAt": "2026-05-01T10:00:00Z",
        "updatedAt": "2026-11-01T10:00:00Z",
    }
]
ENV_VARS = {
    "api": [
        {"key": "PORT", "value": "8080"},
        {
            "key": "DATABASE_URL",
            "value": "postgresql://acme:Hx9sK2pQ7vW4@dpg-d0a1b2c3d4e5f6g7h8i9-a/acme",
        },
        {"key": "SEARCH_URL", "value": "http://search-q1w2:9200"},
    ],
    "mailer": [{"key": "SMTP_HOST", "value": "smtp.example.com"}],
}


ENV_GROUP = {
    "id": "evg-c1d2e3f4g5h6i7j8k9l0",
    "name": "observability",
    "ownerId": OWNER["id"],
    "createdAt": "2026-05-01T10:00:00Z",
    "updatedAt": "2026-11-01T10:00:00Z",
    "serviceLinks": [
        {"id": SERVICES[0]["id"], "name": "api", "type": "web_service"},
        {"id": SERVICES[2]["id"], "name": "mailer", "type": "background_worker"},
    ],
}
ENV_GROUP_VARS = [
    {"key": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector-z9y8:4318"},
    {"key": "SEARCH_URL", "value": "http://search-old-0000:9200"},
]


PROJECTS = [
    {
        "id": "prj-d6nm1vdm5p6s7398qg70",
        "name": "platform",
        "owner": OWNER,
        "environmentIds": ["evm-d6nm1vdm5p6s7398qg7g", "evm-d6nm1vdm5p6s7398qg8h"],
        "createdAt": "2026-05-01T10:00:00Z",
        "updatedAt": "2026-11-01T10:00:00Z",
    }
]
ENVIRONMENTS = [
    {
        "id": "evm-d6nm1vdm5p6s7398qg7g",
        "name": "production",
        "projectId": "prj-d6nm1vdm5p6s7398qg70",
        "protectedStatus": "protected",
        "networkIsolationEnabled": True,
        "services": [],
        "databasesIds": [],
        "redisIds": [],
        "envGroupIds": [],
    },
    {
        "id": "evm-d6nm1vdm5p6s7398qg8h",
        "name": "staging",
        "projectId": "prj-d6nm1vdm5p6s7398qg70",
        "protectedStatus": "unprotected",
        "networkIsolationEnabled": False,
    },
]
SERVICES[0]["environmentId"] = ENVIRONMENTS[0]["id"]
SERVICES[1]["environmentId"] = ENVIRONMENTS[1]["id"]
POSTGRES[0]["environmentId"] = ENVIRONMENTS[0]["id"]


def render_data() -> RenderData:
    by_name = {s["name"]: s for s in SERVICES}
    return RenderData(
        owners=[OWNER],
        services=SERVICES,
        postgres=POSTGRES,
        key_value=KEY_VALUE,
        env_groups=[{**ENV_GROUP, "envVars": ENV_GROUP_VARS, "secretFiles": []}],
        projects=PROJECTS,
        environments=ENVIRONMENTS,
        env_vars={by_name[n]["id"]: v for n, v in ENV_VARS.items()},
        instances={
            s["id"]: [
                {"id": f"{s['id']}-{i:05d}", "createdAt": "2026-11-30T10:00:00Z"}
                for i in range(s["serviceDetails"].get("numInstances", 1))
            ]
            for s in SERVICES
            if s["type"] in ("web_service", "private_service")
        },
        connection_info={
            str(POSTGRES[0]["id"]): {
                "password": "Hx9sK2pQ7vW4",
                "internalConnectionString": (
                    "postgresql://acme:Hx9sK2pQ7vW4@dpg-d0a1b2c3d4e5f6g7h8i9-a/acme"
                ),
                "externalConnectionString": "postgresql://acme:Hx9sK2pQ7vW4@x/acme",
                "psqlCommand": "PGPASSWORD=Hx9sK2pQ7vW4 psql -h x -U acme acme",
            },
            str(KEY_VALUE[0]["id"]): {
                "internalConnectionString": "redis://red-c0d1e2f3g4h5i6j7k8l9:6379",
                "externalConnectionString": "rediss://red-c0d1e2f3g4h5i6j7k8l9:Zz@x:6379",
                "cliCommand": "valkey-cli --tls",
            },
        },
    )


@contextlib.contextmanager
def render_api(
    ca: ApiCa, proxied: Proxied, data: RenderData | None = None, **kw: Any
) -> Iterator[tuple[FakeApis, RenderFake]]:
    fake = RenderFake(data or render_data(), KEY, **kw)
    with FakeApis(ca, {RENDER_HOST: fake}) as apis:
        proxied(apis)
        yield apis, fake


def paths(apis: FakeApis) -> list[str]:
    return [r.path for r in apis.seen()]


async def test_render_api_workspace(api_ca, proxied) -> None:
    with render_api(api_ca, proxied) as (apis, _):
        ws = await api.fetch_render(KEY)
    assert ws.platform is Platform.RENDER and ws.name == "Acme"
    assert apis.connects and set(apis.connects) == {"api.render.com:443"}
    by = {s.name: s for s in ws.services}
    api_svc = by["api"]
    assert (api_svc.kind, api_svc.host, api_svc.host_known, api_svc.region, api_svc.plan) == (
        Kind.WEB,
        "api-x7f2",
        True,
        "oregon",
        "standard",
    )
    assert api_svc.ports == (8080,) and api_svc.instances == 2
    assert api_svc.public_url == "https://api-x7f2.onrender.com"
    assert api_svc.health_path == "/healthz" and api_svc.start_command == "gunicorn app:app"
    assert api_svc.build_command == "pip install -r requirements.txt"
    assert api_svc.env_var("SEARCH_URL") is not None
    search = by["search"]
    assert (search.kind, search.ports, search.public_url) == (Kind.PSERV, (9200, 9300), None)
    mailer = by["mailer"]
    assert mailer.kind is Kind.WORKER and mailer.host is None and mailer.ports == ()
    assert [v.key for v in mailer.env] == ["OTEL_EXPORTER_OTLP_ENDPOINT", "SEARCH_URL", "SMTP_HOST"]
    assert by["nightly"].kind is Kind.CRON
    docs = by["docs"]
    assert docs.kind is Kind.STATIC and docs.region is None
    assert docs.public_url == "https://docs-s2d3.onrender.com"
    preview = by["preview"]
    assert not preview.type.receives and preview.region == "frankfurt"
    db = by["acme-db"]
    assert (db.kind, db.host, db.ports, db.database, db.user, db.password) == (
        Kind.POSTGRES,
        "dpg-d0a1b2c3d4e5f6g7h8i9-a",
        (5432,),
        "acme",
        "acme",
        "Hx9sK2pQ7vW4",
    )
    assert db.ip_allow_list == ("0.0.0.0/0",)
    assert (api_svc.project, api_svc.environment) == ("platform", "platform/production")
    assert by["search"].environment == "platform/staging"
    assert by["mailer"].environment is None
    assert ws.environments["platform/production"].isolated
    assert not ws.environments["platform/staging"].isolated
    assert db.environment == "platform/production"
    replica = by["acme-db-replica"]
    assert (replica.kind, replica.host, replica.region) == (
        Kind.POSTGRES,
        "dpg-d0a1b2c3d4e5f6g7h8i9-b",
        "oregon",
    )
    otel = api_svc.env_var("OTEL_EXPORTER_OTLP_ENDPOINT")
    assert otel is not None and (otel.origin, otel.ref_service) == ("fromGroup", "observability")
    search_url = api_svc.env_var("SEARCH_URL")
    assert search_url is not None and search_url.value == "http://search-q1w2:9200"
    assert mailer.env_var("OTEL_EXPORTER_OTLP_ENDPOINT") is not None
    cache = by["cache"]
    assert (cache.kind, cache.host, cache.ports, cache.ip_allow_list, cache.password) == (
        Kind.KEYVALUE,
        "red-c0d1e2f3g4h5i6j7k8l9",
        (6379,),
        (),
        None,
    )
    assert any("legacy" in n and "suspended" in n for n in ws.notes)
    seen = apis.seen()
    lists = [
        r
        for r in seen
        if not r.path.endswith(("/env-vars", "/instances", "/connection-info"))
        and not r.path.startswith(("/v1/env-groups/", "/v1/environments"))
    ]
    assert all(r.query["limit"] == "100" for r in lists)
    assert all(r.query.get("ownerId") == OWNER["id"] for r in lists[1:])
    env_paths = {r.path for r in seen if r.path.endswith("/env-vars")}
    assert len(env_paths) == len(SERVICES) - 1  # no env vars for the static site
    counted = {r.path.split("/")[3] for r in seen if r.path.endswith("/instances")}
    # the web and private services that receive, not the free one, not the suspended one
    assert counted == {s["id"] for s in SERVICES if s["name"] in ("api", "search")}
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in seen)
    assert all(r.headers["user-agent"].startswith("pnet/") for r in seen)


async def test_render_instances_are_the_live_ones(api_ca, proxied) -> None:
    """An autoscaled service counts what runs, not its setting or its minimum."""
    data = render_data()
    api_svc = data.services[0]
    api_svc["serviceDetails"]["autoscaling"] = {"enabled": True, "min": 1, "max": 5}
    data.instances[api_svc["id"]] = [
        {"id": f"{api_svc['id']}-{i}", "createdAt": "2026-11-30T10:00:00Z"} for i in range(4)
    ]
    with render_api(api_ca, proxied, data):
        ws = await api.fetch_render(KEY)
    assert ws.service("api").instances == 4  # type: ignore[union-attr]
    assert "api runs 4 instances (its setting says 1)" in ws.notes


async def test_render_api_follows_cursors(api_ca, proxied, monkeypatch) -> None:
    monkeypatch.setattr(render, "PAGE_LIMIT", 2)
    with render_api(api_ca, proxied) as (apis, _):
        ws = await api.fetch_render(KEY)
    assert {s.name for s in ws.services} >= {s["name"] for s in SERVICES}
    cursors = [r.query.get("cursor") for r in apis.seen() if r.path == "/v1/services"]
    assert len(cursors) == 4 and cursors[0] is None and len(set(cursors)) == 4


async def test_render_api_several_workspaces(api_ca, proxied) -> None:
    other = {"id": "usr-a1b2c3d4e5f6g7h8i9j0", "name": "Jo", "type": "user"}
    data = render_data()
    data.owners = [OWNER, other]
    with render_api(api_ca, proxied, data):
        with pytest.raises(InputError) as info:
            await api.fetch_render(KEY)
        message = str(info.value)
        assert "reaches 2 workspaces" in message and "RENDER_WORKSPACE=ID_OR_NAME" in message
        ws = await api.fetch_render(KEY, workspace="Acme")
        assert ws.name == "Acme"
        with pytest.raises(InputError) as info:
            await api.fetch_render(KEY, workspace="Nope")
        assert "no workspace 'Nope'" in str(info.value)
        ws = await api.fetch_render(KEY, service_id=SERVICES[0]["id"])
        assert ws.name == "Acme"
        environ = {"RENDER_API_KEY": KEY, "RENDER_WORKSPACE": OWNER["id"]}
        read = await asyncio.to_thread(api.load, "render", environ)
        assert read.workspace.name == "Acme"


@pytest.mark.parametrize(
    ("answer", "error", "expected"),
    [
        (
            Response(401, {"id": "unauthorized", "message": "unauthorized"}),
            InputError,
            "api.render.com: GET /owners: the API refused the key (401 Unauthorized)",
        ),
        (
            Response(403, {"id": "forbidden", "message": "forbidden"}),
            InputError,
            "api.render.com: GET /owners: the key may not read this (403 Forbidden)",
        ),
        (
            Response(429, {"message": "slow down"}, [("Retry-After", "0")]),
            SourceError,
            "api.render.com: GET /owners: rate limited (429) (2 attempts in",
        ),
        (
            Response(500, {"id": "x", "message": "internal server error"}),
            SourceError,
            "api.render.com: GET /owners: the API answered HTTP 500: internal server error "
            "(2 attempts in",
        ),
        (
            Response(200, "<html>Bad gateway</html>"),
            SourceError,
            "api.render.com: GET /owners: the answer is not JSON",
        ),
        (
            Response(200, {"owners": []}),
            SourceError,
            "api.render.com: GET /owners: unexpected answer (expected a list)",
        ),
        (
            Response(200, [{"cursor": "x"}]),
            SourceError,
            "api.render.com: GET /owners: unexpected answer (items without 'owner')",
        ),
        (
            Response(400, {"message": "bad query"}),
            SourceError,
            "api.render.com: GET /owners: the API answered HTTP 400: bad query",
        ),
    ],
)
async def test_render_api_errors_areone_line(
    api_ca, proxied, answer: Response, error: type[Exception], expected: str
) -> None:
    with render_api(api_ca, proxied) as (_, fake):
        fake.always = answer
        with pytest.raises(error) as info:
            await api.fetch_render(KEY, retry=QUICK)
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message and KEY not in message


async def test_render_api_network_down(api_ca, proxied, monkeypatch) -> None:
    with render_api(api_ca, proxied):
        down_proxy(monkeypatch)
        with pytest.raises(SourceError) as info:
            await api.fetch_render(KEY, retry=QUICK)
    message = str(info.value)
    assert message.startswith("api.render.com: GET /owners: cannot reach the API (")
    assert "(2 attempts in" in message and KEY not in message


async def test_render_api_no_answer_in_time(api_ca, proxied, monkeypatch) -> None:
    monkeypatch.setattr(http, "TIMEOUT", httpx.Timeout(0.3))
    with render_api(api_ca, proxied) as (_, fake):
        fake.always = Response(200, [], delay=1.5)
        with pytest.raises(SourceError) as info:
            await api.fetch_render(KEY, retry=QUICK)
    assert str(info.value).startswith("api.render.com: GET /owners: no answer in time")


def test_render_api_sync_entry_point_and_keys(api_ca, proxied, tmp_path) -> None:
    with render_api(api_ca, proxied):
        read = api.load("render", {"RENDER_API_KEY": KEY})
        assert read.workspace.service("api") is not None and not read.cached
        key_file = tmp_path / "render.key"
        key_file.write_text(f"{KEY}\n")
        ws, me = load_workspace(render_key_file=key_file, environ={})
        assert ws.service("api") is not None and me is None
    with pytest.raises(InputError) as info:
        api.load("render", {})
    assert "RENDER_API_KEY" in str(info.value) and "--render-api-key-file" in str(info.value)
    with pytest.raises(InputError) as info:
        api.load("heroku", {"RENDER_API_KEY": KEY})
    assert "unknown API 'heroku'" in str(info.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"\n  \n", "empty"),
        (b"rnd a b\n", "not a key"),
        (b"\xff\xfe", "not text"),
        (b"x" * 5000, "too big"),
    ],
)
def test_bad_key_files_areone_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "key"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_workspace(render_key_file=path, environ={})
    assert str(info.value).startswith(f"{path}: ") and expected in str(info.value)
    with pytest.raises(InputError) as info:
        load_workspace(railway_token_file=tmp_path / "missing", environ={})
    assert "cannot read it" in str(info.value)
    with pytest.raises(InputError) as info:
        load_workspace(render_key_file=tmp_path, environ={})
    assert "is a folder" in str(info.value)


def test_a_key_file_may_be_a_pipe(api_ca, proxied, tmp_path) -> None:
    fifo = tmp_path / "key.fifo"
    os.mkfifo(fifo)
    import threading

    def feed() -> None:
        with open(fifo, "w") as fh:
            fh.write(KEY + "\n")

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        with render_api(api_ca, proxied):
            ws, _ = load_workspace(render_key_file=fifo, environ={})
    finally:
        writer.join(timeout=5)
    assert ws.name == "Acme"


async def test_render_api_without_projects_still_loads(api_ca, proxied) -> None:
    with render_api(api_ca, proxied) as (_, fake):
        fake.faults["/v1/projects"] = [Response(403, {"message": "forbidden"})]
        ws = await api.fetch_render(KEY)
    assert ws.service("api") is not None and not ws.environments
    assert any("projects and environments unknown" in n for n in ws.notes)


async def test_datastore_credentials_the_key_may_not_read(api_ca, proxied) -> None:
    with render_api(api_ca, proxied) as (_, fake):
        path = f"/v1/postgres/{POSTGRES[0]['id']}/connection-info"
        fake.faults[path] = [Response(403, {"message": "forbidden"})]
        ws = await api.fetch_render(KEY)
    db = ws.service("acme-db")
    assert db is not None and db.password is None
    assert any(n.startswith("acme-db: credentials unknown") for n in ws.notes)


# ---- odd answers: a Workspace or one InputError / SourceError, never a traceback ----------


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(ODD_JSON, max_size=3), st.lists(ODD_JSON, max_size=2))
def test_render_odd_answers(odd_api: Switch, services: list[Any], groups: list[Any]) -> None:
    def handler(request: Request) -> Response:
        path = request.path
        if path == "/v1/owners":
            return Response(200, [{"cursor": "a", "owner": OWNER}])
        if path == "/v1/services":
            return Response(200, [{"cursor": "s", "service": s} for s in services])
        if path == "/v1/env-groups":
            return Response(200, [{"cursor": "g", "envGroup": g} for g in groups])
        if path.startswith("/v1/env-groups/"):
            return Response(200, groups[0] if groups else {})
        if path.endswith("/instances"):
            return Response(200, services)
        return Response(200, [])

    odd_api.handler = handler
    one_line(lambda: asyncio.run(api.fetch_render(KEY, retry=QUICK)), Platform.RENDER)


async def test_what_render_assumes_is_said_to_be_assumed(api_ca, proxied) -> None:
    """No open port detected and no PORT: the port is Render's guess, never the ground of an
    error; a Key Value whose internal URL carries a password has internal authentication on."""
    data = render_data()
    data.services[1]["serviceDetails"]["openPorts"] = []  # search, url search-q1w2:9200
    data.connection_info[str(KEY_VALUE[0]["id"])]["internalConnectionString"] = (
        "redis://default:Vb7nM2kL9pQ4@red-c0d1e2f3g4h5i6j7k8l9:6379"
    )
    with render_api(api_ca, proxied, data):
        ws = await api.fetch_render(KEY)
    search, api_svc, cache = ws.service("search"), ws.service("api"), ws.service("cache")
    assert search is not None and (search.ports, search.ports_known) == ((9200,), False)
    assert api_svc is not None and api_svc.ports_known
    assert cache is not None and cache.internal_auth and cache.password == "Vb7nM2kL9pQ4"
