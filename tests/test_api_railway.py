"""Railway's GraphQL API read for real: HTTPS through a CONNECT proxy to a fake that answers the
operations pnet sends (tests.apifake.railway): the project, replicas, tokens, errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from pnet.errors import InputError, SourceError
from pnet.model import Kind, Network, Platform
from pnet.sources import api
from tests.apifake.fixtures import QUICK, down_proxy
from tests.apifake.odd import ODD_JSON, Switch, one_line
from tests.apifake.railway import RailwayData, RailwayFake
from tests.apifake.server import RAILWAY_HOST, ApiCa, FakeApis, Request, Response

Proxied = Callable[[FakeApis], Path]

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
PROJECT_TOKEN = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"


def railway_data() -> RailwayData:
    names = {i: n for n, i in SVC_IDS.items()}
    environments: dict[str, dict[str, Any]] = {}
    for env in (PROD, STAGING):
        edges = []
        for node in INSTANCES[env["id"]]:
            replicas = node["numReplicas"]
            deployment = {
                "status": "SUCCESS",
                "instances": [{"status": "RUNNING"} for _ in range(replicas)],
            }
            edges.append(
                {
                    "node": {
                        **node,
                        "latestDeployment": deployment,
                        "activeDeployments": [deployment],
                    }
                }
            )
        environments[env["id"]] = {
            "environment": dict(env, serviceInstances={"edges": edges}),
            "privateNetworks": NETWORKS[env["id"]],
            "shared": SHARED[env["id"]],
        }
    variables: dict[str, dict[str, dict[str, str]]] = {PROD["id"]: {}, STAGING["id"]: {}}
    for (env_id, name), values in VARIABLES.items():
        variables[env_id][SVC_IDS[name]] = values
    return RailwayData(
        project={
            **PROJECT,
            "environments": [PROD, STAGING],
            "services": [{"id": i, "name": names[i]} for i in SVC_IDS.values()],
        },
        environments=environments,
        variables=variables,
        project_token={"project": PROJECT, "environment": STAGING},
    )


@contextlib.contextmanager
def railway_api(
    ca: ApiCa, proxied: Proxied, data: RailwayData | None = None, **kw: Any
) -> Iterator[tuple[FakeApis, RailwayFake]]:
    kw.setdefault("project_token", PROJECT_TOKEN)
    fake = RailwayFake(data or railway_data(), TOKEN, **kw)
    with FakeApis(ca, {RAILWAY_HOST: fake}) as apis:
        proxied(apis)
        yield apis, fake


async def test_railway_api_workspace(api_ca, proxied) -> None:
    with railway_api(api_ca, proxied) as (apis, fake):
        ws = await api.fetch_railway(TOKEN)
    assert (ws.platform, ws.name, ws.project) == (Platform.RAILWAY, "shop", "shop")
    assert ws.environments["production"].network is Network.IPV6_ONLY
    assert ws.environments["staging"].network is Network.DUAL_STACK
    assert apis.seen()[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert set(apis.connects) == {"backboard.railway.com:443"}
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
    assert sorted(fake.operations) == sorted(
        ["Projects", "Project", "Environment", "Variables", "Environment", "Variables"]
    )
    assert all("unrendered: true" in r.json()["query"] for r in apis.seen()[-1:])


async def test_railway_replicas_are_what_the_deployment_runs(api_ca, proxied) -> None:
    data = railway_data()
    node = data.environments[PROD["id"]]["environment"]["serviceInstances"]["edges"][0]["node"]
    running = {
        "status": "SUCCESS",
        "instances": [{"status": "RUNNING"}, {"status": "CRASHED"}, {"status": "REMOVED"}],
    }
    node["activeDeployments"] = [running]
    with railway_api(api_ca, proxied, data):
        ws = await api.fetch_railway(TOKEN)
    api_svc = next(s for s in ws.services if s.name == "api" and s.environment == "production")
    assert api_svc.instances == 2
    assert "api (production): 1 of 2 replicas running (1 crashed)" in ws.notes


async def test_railway_replicas_the_plan_does_not_show(api_ca, proxied) -> None:
    with railway_api(api_ca, proxied) as (_, fake):
        fake.deployments_forbidden = True
        ws = await api.fetch_railway(TOKEN)
    api_svc = next(s for s in ws.services if s.name == "api" and s.environment == "production")
    assert api_svc.instances == 2  # numReplicas
    assert any("replicas unknown" in n for n in ws.notes)
    assert fake.operations.count("Environment") == 4  # each environment asked again


async def test_railway_project_token_reads_its_environment(api_ca, proxied) -> None:
    with railway_api(api_ca, proxied) as (apis, fake):
        ws = await api.fetch_railway(PROJECT_TOKEN, kind="project")
    first = apis.seen()[0].headers
    assert first["project-access-token"] == PROJECT_TOKEN and "authorization" not in first
    assert set(ws.environments) == {"staging"}
    assert fake.operations[0] == "ProjectToken"


async def test_railway_token_of_unknown_kind(api_ca, proxied) -> None:
    """A token from a file is tried as an account token, then as a project token."""
    with railway_api(api_ca, proxied) as (_, fake):
        ws = await api.fetch_railway(PROJECT_TOKEN, kind="unknown")
        assert set(ws.environments) == {"staging"}
        assert fake.operations[:2] == ["Projects", "ProjectToken"]
        ws = await api.fetch_railway(TOKEN, kind="unknown")
        assert set(ws.environments) == {"production", "staging"}


async def test_railway_several_projects_need_a_choice(api_ca, proxied) -> None:
    other = {"id": "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a", "name": "blog"}
    with railway_api(api_ca, proxied, more_projects=[other]):
        with pytest.raises(InputError) as info:
            await api.fetch_railway(TOKEN)
        message = str(info.value)
        assert "reaches 2 projects" in message and "RAILWAY_PROJECT_ID=ID" in message
        ws = await api.fetch_railway(TOKEN, project_id=PROJECT["id"])
        assert ws.name == "shop"


@pytest.mark.parametrize(
    ("answer", "error", "expected"),
    [
        (
            Response(200, {"errors": [{"message": "Not Authorized"}], "data": None}),
            InputError,
            "backboard.railway.com: projects: the API refused the token (Not Authorized)",
        ),
        (
            Response(401, {"errors": [{"message": "Not Authorized"}]}),
            InputError,
            "backboard.railway.com: projects: the API refused the key (401 Unauthorized)",
        ),
        (
            Response(429, "Too Many Requests", [("Retry-After", "0")]),
            SourceError,
            "backboard.railway.com: projects: rate limited (429) (2 attempts in",
        ),
        (
            Response(400, {"errors": [{"message": 'Cannot query field "x"'}]}),
            SourceError,
            "backboard.railway.com: projects: the API answered HTTP 400: Cannot query field",
        ),
        (
            Response(200, {"errors": [{"message": "Problem processing request"}], "data": None}),
            SourceError,
            "backboard.railway.com: projects: the API answered an error: Problem processing",
        ),
        (
            Response(200, "not json at all"),
            SourceError,
            "backboard.railway.com: projects: the answer is not JSON",
        ),
        (
            Response(200, ["a", "list"]),
            SourceError,
            "backboard.railway.com: projects: unexpected answer (expected an object)",
        ),
    ],
)
async def test_railway_api_errors_areone_line(
    api_ca, proxied, answer: Response, error: type[Exception], expected: str
) -> None:
    with railway_api(api_ca, proxied) as (_, fake):
        fake.faults["Projects"] = [answer, answer]
        with pytest.raises(error) as info:
            await api.fetch_railway(TOKEN, retry=QUICK)
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message and TOKEN not in message


async def test_railway_network_down(api_ca, proxied, monkeypatch) -> None:
    with railway_api(api_ca, proxied):
        down_proxy(monkeypatch)
        with pytest.raises(SourceError) as info:
            await api.fetch_railway(TOKEN, retry=QUICK)
    assert str(info.value).startswith("backboard.railway.com: projects: cannot reach the API")


def test_railway_sync_entry_point(api_ca, proxied) -> None:
    with railway_api(api_ca, proxied):
        read = api.load("railway", {"RAILWAY_API_TOKEN": TOKEN})
        assert read.workspace.platform is Platform.RAILWAY
        read = api.load(f"railway:{PROJECT['id']}", {"RAILWAY_TOKEN": PROJECT_TOKEN})
        assert set(read.workspace.environments) == {"staging"}
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


# ---- odd answers: a Workspace or one InputError / SourceError, never a traceback ----------


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ODD_JSON, ODD_JSON, ODD_JSON)
def test_railway_odd_answers(odd_api: Switch, project: Any, environment: Any, variables: Any):
    def handler(request: Request) -> Response:
        query = request.json()["query"]
        if query.lstrip().startswith("query Project("):
            data: Any = {"project": project}
        elif query.lstrip().startswith("query Environment("):
            data = {"environment": environment, "privateNetworks": variables, "shared": variables}
        elif query.lstrip().startswith("query Variables("):
            data = {f"v{i}": variables for i in range(60)}
        else:
            data = {"projects": {"edges": [{"node": PROJECT}]}}
        return Response(200, {"data": data})

    odd_api.handler = handler
    one_line(lambda: asyncio.run(api.fetch_railway(TOKEN, retry=QUICK)), Platform.RAILWAY)
