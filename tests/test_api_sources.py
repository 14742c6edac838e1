"""The Render REST and Railway GraphQL sources against MockTransport, in their documented shapes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pnet.errors import InputError
from pnet.model import Kind, Network, Platform, Workspace
from pnet.sources import api, load_workspace

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


def page(items: list[dict[str, Any]], key: str, request: httpx.Request) -> httpx.Response:
    """Render's cursor pagination: `[{cursor, <key>: {...}}]`, at most `limit` items."""
    limit = int(request.url.params.get("limit", "20"))
    cursor = request.url.params.get("cursor")
    start = 0
    if cursor:
        start = next(i for i, it in enumerate(items) if f"c-{i}" == cursor) + 1
    chunk = items[start : start + limit]
    return httpx.Response(
        200, json=[{"cursor": f"c-{start + i}", key: it} for i, it in enumerate(chunk)]
    )


class RenderApi:
    """A Render API double answering the documented list endpoints, recording each request."""

    def __init__(self, owners: list[dict[str, Any]] | None = None) -> None:
        self.owners = owners if owners is not None else [OWNER]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == f"Bearer {KEY}"
        assert request.url.host == "api.render.com"
        path = request.url.path
        if path == "/v1/owners":
            return page(self.owners, "owner", request)
        if path == "/v1/services":
            return page(SERVICES, "service", request)
        if path == "/v1/postgres":
            return page(POSTGRES, "postgres", request)
        if path == "/v1/key-value":
            return page(KEY_VALUE, "keyValue", request)
        if path == "/v1/projects":
            return page(PROJECTS, "project", request)
        if path == "/v1/environments":
            assert request.url.params["projectId"] == PROJECTS[0]["id"]
            return page(ENVIRONMENTS, "environment", request)
        if path == "/v1/env-groups":
            return page([ENV_GROUP], "envGroup", request)
        if path == f"/v1/env-groups/{ENV_GROUP['id']}":
            return httpx.Response(
                200, json={**ENV_GROUP, "envVars": ENV_GROUP_VARS, "secretFiles": []}
            )
        for svc in SERVICES:
            if path == f"/v1/services/{svc['id']}/env-vars":
                return page(ENV_VARS.get(svc["name"], []), "envVar", request)
        return httpx.Response(404, json={"id": "not-found", "message": "not found"})


async def fetch_render(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> Workspace:
    return await api.fetch_render(KEY, transport=httpx.MockTransport(handler), **kw)


async def test_render_api_workspace() -> None:
    double = RenderApi()
    ws = await fetch_render(double)
    assert ws.platform is Platform.RENDER and ws.name == "Acme"
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
    assert (db.kind, db.host, db.ports, db.database, db.user) == (
        Kind.POSTGRES,
        "dpg-d0a1b2c3d4e5f6g7h8i9-a",
        (5432,),
        "acme",
        "acme",
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
    assert (cache.kind, cache.host, cache.ports, cache.ip_allow_list) == (
        Kind.KEYVALUE,
        "red-c0d1e2f3g4h5i6j7k8l9",
        (6379,),
        (),
    )
    assert any("legacy" in n and "suspended" in n for n in ws.notes)
    lists = [
        r
        for r in double.requests
        if not r.url.path.endswith("/env-vars")
        and not r.url.path.startswith(("/v1/env-groups/", "/v1/environments"))
    ]
    assert all(r.url.params["limit"] == "100" for r in lists)
    assert all(r.url.params.get("ownerId") == OWNER["id"] for r in lists[1:])
    env_paths = {r.url.path for r in double.requests if r.url.path.endswith("/env-vars")}
    assert len(env_paths) == len(SERVICES) - 1  # no env vars for the static site


async def test_render_api_follows_cursors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "PAGE_LIMIT", 2)
    double = RenderApi()
    ws = await fetch_render(double)
    assert {s.name for s in ws.services} >= {s["name"] for s in SERVICES}
    cursors = [r.url.params.get("cursor") for r in double.requests if r.url.path == "/v1/services"]
    assert cursors == [None, "c-1", "c-3", "c-5"]


async def test_render_api_several_workspaces() -> None:
    other = {"id": "usr-a1b2c3d4e5f6g7h8i9j0", "name": "Jo", "type": "user"}
    with pytest.raises(InputError) as info:
        await fetch_render(RenderApi([OWNER, other]))
    message = str(info.value)
    assert "reaches 2 workspaces" in message and "render:WORKSPACE" in message
    ws = await fetch_render(RenderApi([OWNER, other]), workspace="Acme")
    assert ws.name == "Acme"
    with pytest.raises(InputError) as info:
        await fetch_render(RenderApi([OWNER, other]), workspace="Nope")
    assert "no workspace 'Nope'" in str(info.value)


def _answer(response: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return response

    return handler


def _down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)


def _slow(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (
            _answer(httpx.Response(401, json={"id": "unauthorized", "message": "unauthorized"})),
            "api.render.com: GET /owners: the API refused the key (401 Unauthorized)",
        ),
        (
            _answer(httpx.Response(429, headers={"Retry-After": "30"})),
            "api.render.com: GET /owners: rate limited (429): try again in 30 s",
        ),
        (
            _answer(httpx.Response(500, json={"id": "x", "message": "internal server error"})),
            "api.render.com: GET /owners: the API answered HTTP 500: internal server error",
        ),
        (
            _answer(httpx.Response(200, text="<html>Bad gateway</html>")),
            "api.render.com: GET /owners: the answer is not JSON",
        ),
        (
            _answer(httpx.Response(200, json={"owners": []})),
            "api.render.com: GET /owners: unexpected answer (expected a list)",
        ),
        (
            _answer(httpx.Response(200, json=[{"cursor": "x"}])),
            "api.render.com: GET /owners: unexpected answer (items without 'owner')",
        ),
        (_down, "api.render.com: GET /owners: cannot reach the API ("),
        (_slow, "api.render.com: GET /owners: no answer in time"),
    ],
)
async def test_render_api_errors_are_one_line(
    handler: Callable[[httpx.Request], httpx.Response], expected: str
) -> None:
    with pytest.raises(InputError) as info:
        await fetch_render(handler)
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message and KEY not in message


def test_render_api_sync_entry_point_and_dispatcher() -> None:
    double = RenderApi()
    environ = {"RENDER_API_KEY": KEY}
    ws = api.load("render", environ, transport=httpx.MockTransport(double))
    assert ws.service("api") is not None
    with pytest.raises(InputError) as info:
        api.load("render", {})
    assert "RENDER_API_KEY" in str(info.value)
    with pytest.raises(InputError) as info:
        api.load("heroku", environ)
    assert "unknown API 'heroku'" in str(info.value)


def test_dispatcher_identifies_the_instance_in_the_api_workspace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    double = RenderApi()
    real_load = api.load

    def load(choice: str, environ: Any, *, transport: Any = None) -> Workspace:
        return real_load(choice, environ, transport=httpx.MockTransport(double))

    monkeypatch.setattr(api, "load", load)
    environ = {"RENDER_API_KEY": KEY, "RENDER_SERVICE_NAME": "api-x7f2", "RENDER": "true"}
    ws, me = load_workspace(api="render", environ=environ)
    assert me is not None and me.name == "api" and me.region == "oregon"
    ws, me = load_workspace(api="render", environ={"RENDER_API_KEY": KEY})
    assert me is None and ws.service("api") is not None


# ---- Railway ------------------------------------------------------------------------------

TOKEN = "5f0c1e2d-3b4a-4c5d-8e9f-0a1b2c3d4e5f"
PROJECT = {"id": "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", "name": "shop"}
PROD = {"id": "env-prod-0000-0000-000000000001", "name": "production"}
STAGING = {"id": "env-stag-0000-0000-000000000002", "name": "staging"}
SVC_IDS = {
    "api": "svc-api-0000-0000-000000000001",
    "Postgres": "svc-pg-00000-0000-000000000002",
    "Redis": "svc-red-0000-0000-000000000003",
    "worker": "svc-wrk-0000-0000-000000000004",
    "cron": "svc-crn-0000-0000-000000000005",
}


def instance(name: str, **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "serviceId": SVC_IDS[name],
        "serviceName": name,
        "numReplicas": 1,
        "region": "us-west2",
        "startCommand": None,
        "cronSchedule": None,
        "source": {"image": None, "repo": "acme/shop"},
        "domains": {"serviceDomains": [], "customDomains": []},
    }
    node.update(extra)
    return node


INSTANCES = {
    PROD["id"]: [
        instance(
            "api",
            numReplicas=2,
            domains={
                "serviceDomains": [{"domain": "api-production.up.railway.app", "targetPort": 3000}],
                "customDomains": [],
            },
        ),
        instance(
            "Postgres",
            source={"image": "ghcr.io/railwayapp-templates/postgres-ssl:16", "repo": None},
        ),
        instance("Redis", source={"image": "bitnami/redis:7.2.5", "repo": None}),
        instance("worker"),
        instance("cron", cronSchedule="*/10 * * * *"),
    ],
    STAGING["id"]: [instance("api")],
}
NETWORKS = {
    PROD["id"]: [{"name": "railway", "dnsName": "railway.internal", "tags": []}],
    STAGING["id"]: [
        {"name": "railway", "dnsName": "railway.internal", "tags": ["SUPPORTS_IPV4_PRIVNETS"]}
    ],
}
PG_VARS = {
    "PGUSER": "postgres",
    "POSTGRES_PASSWORD": "Zk7wE2rR9tQ1",
    "PGPASSWORD": "${{POSTGRES_PASSWORD}}",
    "PGDATABASE": "railway",
    "PGHOST": "${{RAILWAY_PRIVATE_DOMAIN}}",
    "PGPORT": "5432",
    "DATABASE_URL": (
        "postgresql://${{PGUSER}}:${{POSTGRES_PASSWORD}}@${{RAILWAY_PRIVATE_DOMAIN}}:5432/"
        "${{PGDATABASE}}"
    ),
    "DATABASE_PUBLIC_URL": (
        "postgresql://${{PGUSER}}:${{POSTGRES_PASSWORD}}@${{RAILWAY_TCP_PROXY_DOMAIN}}:"
        "${{RAILWAY_TCP_PROXY_PORT}}/${{PGDATABASE}}"
    ),
    "RAILWAY_PRIVATE_DOMAIN": "postgres.railway.internal",
    "RAILWAY_TCP_PROXY_DOMAIN": "shuttle.proxy.rlwy.net",
    "RAILWAY_TCP_PROXY_PORT": "15140",
}
VARIABLES = {
    (PROD["id"], "api"): {
        "PORT": "3000",
        "DATABASE_URL": "${{Postgres.DATABASE_URL}}",
        "REDIS_URL": "${{Redis.REDIS_URL}}",
        "WORKER_URL": "http://${{worker.RAILWAY_PRIVATE_DOMAIN}}:${{worker.PORT}}",
        "SENTRY_ENVIRONMENT": "${{shared.SENTRY_ENVIRONMENT}}",
        "RAILWAY_PRIVATE_DOMAIN": "api.railway.internal",
        "RAILWAY_PUBLIC_DOMAIN": "api-production.up.railway.app",
    },
    (PROD["id"], "Postgres"): PG_VARS,
    (PROD["id"], "Redis"): {
        "REDISUSER": "default",
        "REDIS_PASSWORD": "Lp0oK9iJ8uH7",
        "REDISPASSWORD": "${{REDIS_PASSWORD}}",
        "REDISHOST": "${{RAILWAY_PRIVATE_DOMAIN}}",
        "REDISPORT": "6379",
        "REDIS_URL": "redis://${{REDISUSER}}:${{REDIS_PASSWORD}}@${{REDISHOST}}:${{REDISPORT}}",
        "RAILWAY_PRIVATE_DOMAIN": "redis.railway.internal",
    },
    (PROD["id"], "worker"): {"QUEUE": "${{Redis.REDIS_URL}}"},
    (PROD["id"], "cron"): {},
    (STAGING["id"], "api"): {"PORT": "3000", "DATABASE_URL": "${{Postgres.DATABASE_URL}}"},
}
SHARED = {PROD["id"]: {"SENTRY_ENVIRONMENT": "production"}, STAGING["id"]: {}}


class RailwayApi:
    """A Railway GraphQL double: answers the queries the source sends, by operation."""

    def __init__(self, *, projects: list[dict[str, Any]] | None = None) -> None:
        self.projects = projects if projects is not None else [PROJECT]
        self.operations: list[str] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert str(request.url) == "https://backboard.railway.com/graphql/v2"
        self.headers.append(request.headers)
        body = json.loads(request.content)
        query, variables = body["query"], body["variables"]
        op = query.split("query ", 1)[1].split("(", 1)[0].split(" ", 1)[0].split("{", 1)[0]
        self.operations.append(op)
        if op == "ProjectToken":
            data: dict[str, Any] = {"projectToken": {"project": PROJECT, "environment": STAGING}}
        elif op == "Projects":
            data = {"projects": {"edges": [{"node": p} for p in self.projects]}}
        elif op == "Project":
            assert variables["id"] == PROJECT["id"]
            data = {
                "project": {
                    **PROJECT,
                    "environments": {"edges": [{"node": PROD}, {"node": STAGING}]},
                    "services": {
                        "edges": [{"node": {"id": i, "name": n}} for n, i in SVC_IDS.items()]
                    },
                }
            }
        elif op == "Environment":
            env_id = variables["environmentId"]
            name = PROD["name"] if env_id == PROD["id"] else STAGING["name"]
            data = {
                "environment": {
                    "id": env_id,
                    "name": name,
                    "serviceInstances": {"edges": [{"node": n} for n in INSTANCES[env_id]]},
                },
                "privateNetworks": NETWORKS[env_id],
                "shared": SHARED[env_id],
            }
        elif op == "Variables":
            env_id = variables["environmentId"]
            names = {i: n for n, i in SVC_IDS.items()}
            data = {}
            i = 0
            while f"s{i}" in variables:
                assert f"v{i}: variables(" in query
                data[f"v{i}"] = VARIABLES[(env_id, names[variables[f"s{i}"]])]
                i += 1
        else:
            return httpx.Response(400, json={"errors": [{"message": f"unknown query {op}"}]})
        return httpx.Response(200, json={"data": data})


async def fetch_railway(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> Workspace:
    return await api.fetch_railway(TOKEN, transport=httpx.MockTransport(handler), **kw)


async def test_railway_api_workspace() -> None:
    double = RailwayApi()
    ws = await fetch_railway(double)
    assert (ws.platform, ws.name, ws.project) == (Platform.RAILWAY, "shop", "shop")
    assert ws.environments["production"].network is Network.IPV6_ONLY
    assert ws.environments["staging"].network is Network.DUAL_STACK
    assert double.headers[0]["authorization"] == f"Bearer {TOKEN}"
    prod = {s.name: s for s in ws.services if s.environment == "production"}
    api_svc = prod["api"]
    assert (api_svc.kind, api_svc.host, api_svc.ports, api_svc.instances) == (
        Kind.WEB,
        "api.railway.internal",
        (3000,),
        2,
    )
    assert api_svc.public_url == "https://api-production.up.railway.app"
    assert api_svc.region == "us-west2"
    db_url = api_svc.env_var("DATABASE_URL")
    assert db_url is not None and db_url.value == (
        "postgresql://postgres:Zk7wE2rR9tQ1@postgres.railway.internal:5432/railway"
    )
    assert (db_url.origin, db_url.ref_service) == ("reference", "Postgres")
    redis = api_svc.env_var("REDIS_URL")
    assert redis is not None
    assert redis.value == "redis://default:Lp0oK9iJ8uH7@redis.railway.internal:6379"
    worker_url = api_svc.env_var("WORKER_URL")
    assert worker_url is not None and worker_url.value is None and not worker_url.resolved
    assert "does not set PORT itself" in worker_url.note
    sentry = api_svc.env_var("SENTRY_ENVIRONMENT")
    assert sentry is not None and sentry.value == "production"
    assert api_svc.env_var("RAILWAY_PRIVATE_DOMAIN") is None
    pg = prod["Postgres"]
    assert (pg.kind, pg.host, pg.ports, pg.user, pg.password, pg.database) == (
        Kind.POSTGRES,
        "postgres.railway.internal",
        (5432,),
        "postgres",
        "Zk7wE2rR9tQ1",
        "railway",
    )
    public = pg.env_var("DATABASE_PUBLIC_URL")
    assert public is not None and public.value == (
        "postgresql://postgres:Zk7wE2rR9tQ1@shuttle.proxy.rlwy.net:15140/railway"
    )
    assert prod["Redis"].kind is Kind.KEYVALUE and prod["Redis"].ports == (6379,)
    assert prod["worker"].kind is Kind.PSERV and prod["worker"].ports == ()
    assert prod["cron"].kind is Kind.CRON
    staging_api = next(s for s in ws.services if s.environment == "staging")
    staged = staging_api.env_var("DATABASE_URL")
    assert staged is not None and staged.value is None
    assert "no service named 'Postgres'" in staged.note
    assert sorted(double.operations) == sorted(
        ["Projects", "Project", "Environment", "Variables", "Environment", "Variables"]
    )


async def test_railway_project_token_reads_its_environment() -> None:
    double = RailwayApi()
    ws = await fetch_railway(double, project_token=True)
    assert double.headers[0]["project-access-token"] == TOKEN
    assert "authorization" not in double.headers[0]
    assert set(ws.environments) == {"staging"}
    assert double.operations[0] == "ProjectToken"


async def test_railway_several_projects_need_a_choice() -> None:
    other = {"id": "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a", "name": "blog"}
    with pytest.raises(InputError) as info:
        await fetch_railway(RailwayApi(projects=[PROJECT, other]))
    assert "reaches 2 projects" in str(info.value) and "railway:PROJECT_ID" in str(info.value)
    ws = await fetch_railway(RailwayApi(projects=[PROJECT, other]), project_id=PROJECT["id"])
    assert ws.name == "shop"


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            httpx.Response(200, json={"errors": [{"message": "Not Authorized"}], "data": None}),
            "backboard.railway.com: projects: the API refused the token (Not Authorized)",
        ),
        (
            httpx.Response(401, json={"errors": [{"message": "Not Authorized"}]}),
            "backboard.railway.com: projects: the API refused the key (401 Unauthorized)",
        ),
        (
            httpx.Response(429, text="Too Many Requests"),
            "backboard.railway.com: projects: rate limited (429): try again later",
        ),
        (
            httpx.Response(400, json={"errors": [{"message": 'Cannot query field "x"'}]}),
            "backboard.railway.com: projects: the API answered HTTP 400: Cannot query field",
        ),
        (
            httpx.Response(200, text="not json at all"),
            "backboard.railway.com: projects: the answer is not JSON",
        ),
        (
            httpx.Response(200, json=["a", "list"]),
            "backboard.railway.com: projects: unexpected answer (expected an object)",
        ),
    ],
)
async def test_railway_api_errors_are_one_line(response: httpx.Response, expected: str) -> None:
    with pytest.raises(InputError) as info:
        await fetch_railway(_answer(response))
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message and TOKEN not in message


async def test_railway_network_down() -> None:
    with pytest.raises(InputError) as info:
        await fetch_railway(_down)
    assert str(info.value).startswith("backboard.railway.com: projects: cannot reach the API")


def test_railway_sync_entry_point() -> None:
    double = RailwayApi()
    ws = api.load("railway", {"RAILWAY_API_TOKEN": TOKEN}, transport=httpx.MockTransport(double))
    assert ws.platform is Platform.RAILWAY
    ws = api.load(
        f"railway:{PROJECT['id']}", {"RAILWAY_TOKEN": TOKEN}, transport=httpx.MockTransport(double)
    )
    assert set(ws.environments) == {"staging"}
    with pytest.raises(InputError) as info:
        api.load("railway", {})
    assert "RAILWAY_API_TOKEN" in str(info.value)


def test_variables_query_aliases_each_service() -> None:
    query = api.variables_query(2)
    assert "$s0: String!, $s1: String!" in query
    assert (
        "v1: variables(projectId: $projectId, environmentId: $environmentId, serviceId: $s1, "
        "unrendered: true)"
    ) in query


# ---- odd answers: a Workspace or one InputError, never a traceback -------------------------

_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 70000),
        st.sampled_from(["", "x", "web_service", "private_service", "oregon", "free", "a:1"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "name",
                    "slug",
                    "type",
                    "serviceDetails",
                    "openPorts",
                    "port",
                    "plan",
                    "region",
                    "url",
                    "ipAllowList",
                    "cidrBlock",
                    "owner",
                    "ownerId",
                    "envVars",
                    "serviceLinks",
                    "key",
                    "value",
                    "readReplicas",
                    "numInstances",
                    "autoscaling",
                    "edges",
                    "node",
                    "domains",
                    "serviceDomains",
                    "targetPort",
                    "tags",
                    "source",
                    "image",
                    "serviceInstances",
                    "environments",
                    "services",
                    "serviceId",
                ]
            ),
            inner,
            max_size=6,
        ),
    ),
    max_leaves=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_JSON, max_size=3), st.lists(_JSON, max_size=2))
def test_render_odd_answers(services: list[Any], groups: list[Any]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/owners":
            return httpx.Response(200, json=[{"cursor": "a", "owner": OWNER}])
        if path == "/v1/services":
            return httpx.Response(200, json=[{"cursor": "s", "service": s} for s in services])
        if path == "/v1/env-groups":
            return httpx.Response(200, json=[{"cursor": "g", "envGroup": g} for g in groups])
        if path.startswith("/v1/env-groups/"):
            return httpx.Response(200, json=groups[0] if groups else {})
        return httpx.Response(200, json=[])

    try:
        ws = asyncio.run(fetch_render(handler))
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert ws.platform is Platform.RENDER


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON, _JSON, _JSON)
def test_railway_odd_answers(project: Any, environment: Any, variables: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        query = body["query"]
        if query.lstrip().startswith("query Project("):
            data: Any = {"project": project}
        elif query.lstrip().startswith("query Environment("):
            data = {"environment": environment, "privateNetworks": variables, "shared": variables}
        elif query.lstrip().startswith("query Variables("):
            data = {f"v{i}": variables for i in range(60)}
        else:
            data = {"projects": {"edges": [{"node": PROJECT}]}}
        return httpx.Response(200, json={"data": data})

    try:
        ws = asyncio.run(fetch_railway(handler))
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert ws.platform is Platform.RAILWAY


async def test_render_api_without_projects_still_loads() -> None:
    double = RenderApi()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/projects":
            return httpx.Response(403, json={"message": "forbidden"})
        return double(request)

    ws = await fetch_render(handler)
    assert ws.service("api") is not None and not ws.environments
    assert any("projects and environments unknown" in n for n in ws.notes)
