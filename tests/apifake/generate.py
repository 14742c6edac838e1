"""Write the fakes' data and the fixture each is equivalent to: `python -m tests.apifake.generate`.

Render: `fixtures/render-acme.yaml` (a fault of every Render kind) plus background workers up
to 150 services, so the service list takes two pages of 100. The equivalent fixture
(`data/render-acme.yaml`) says only what the API can say (a private service has no health
path, a free web service no internal address, every service a runtime), and the API's JSON
(`data/render-acme/`) is written from it in the documented shapes, one service autoscaled
(its setting says 1 instance, its instances endpoint lists 3).

Railway: `fixtures/railway-shop.yaml` the same way (`data/railway-shop.yaml`,
`data/railway-shop/`): a service's port is its `PORT` variable, a database's credentials are
its template's variables, the legacy environment's network lacks the IPv4 tag.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import yaml

from pnet.model import Kind, Network, Service, Workspace
from pnet.sources.fixture import load
from tests.apifake.railway import RailwayData
from tests.apifake.render import RenderData

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
RENDER_TOTAL = 150
STAMP = "2026-11-20T08:30:00.000000Z"
OWNER = {
    "id": "tea-d0acme1x2y3z4a5b6c7",
    "name": "acme",
    "email": "ops@acme.example",
    "type": "team",
}
API_TYPES = {
    Kind.WEB: "web_service",
    Kind.PSERV: "private_service",
    Kind.WORKER: "background_worker",
    Kind.CRON: "cron_job",
    Kind.STATIC: "static_site",
}
AUTOSCALED = "inventory"
HEADER = (
    "# Written by tests/apifake/generate.py from {source}: the workspace the fake API serves.\n"
)


def h(text: str, n: int) -> str:
    """`n` characters of [a-z0-9] that depend on `text` only."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256(text.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest)[:n]


# ---- Render ---------------------------------------------------------------------------


def render_fixture() -> dict[str, Any]:
    """The acme fixture as the API can describe it, with workers up to 150 services."""
    doc = yaml.safe_load((ROOT / "fixtures" / "render-acme.yaml").read_text())
    ws = load(ROOT / "fixtures" / "render-acme.yaml")
    out = []
    for node in doc["services"]:
        node = dict(node)
        svc = ws.service(node["name"])
        assert svc is not None
        if svc.kind is Kind.PSERV:
            node.pop("health_path", None)
        if svc.kind is Kind.WEB and not svc.type.has_internal_address:
            node.pop("host", None)
            node.pop("ports", None)
        if not svc.kind.is_datastore and svc.kind is not Kind.STATIC:
            node.setdefault("runtime", "node")
        if svc.kind.is_datastore:
            node["plan"] = (svc.plan or "starter").replace("-", "_")
        out.append(node)
    services = sum(1 for n in out if n["type"] not in ("postgres", "keyvalue"))
    for i in range(RENDER_TOTAL - services):
        out.append(
            {
                "name": f"job-{i + 1:03d}",
                "type": "worker",
                "region": "oregon" if i % 3 else "frankfurt",
                "runtime": "python",
                "env": {"LOG_LEVEL": "info", "QUEUE": f"jobs-{i % 7}"},
            }
        )
    return {"platform": "render", "workspace": OWNER["name"], "services": out}


def render_data(ws: Workspace) -> RenderData:
    data = RenderData(owners=[OWNER])
    for svc in ws.services:
        if svc.kind is Kind.POSTGRES:
            _render_postgres(data, svc)
        elif svc.kind is Kind.KEYVALUE:
            _render_keyvalue(data, svc)
        else:
            _render_service(data, svc)
    return data


def _render_service(data: RenderData, svc: Service) -> None:
    prefix = "crn-" if svc.kind is Kind.CRON else "srv-"
    sid = prefix + h(svc.name, 20)
    slug = svc.host or f"{svc.name}-{h(svc.name + 'slug', 4)}"
    runtime = svc.runtime or "node"
    deploy = {"buildCommand": svc.build_command or "make build", "startCommand": "make start"}
    ssh = f"{sid}@ssh.{svc.region}.render.com"
    ports = [{"port": p, "protocol": "TCP"} for p in svc.ports]
    details: dict[str, Any]
    if svc.kind is Kind.WEB:
        details = {
            "env": runtime,
            "runtime": runtime,
            "plan": svc.plan,
            "region": svc.region,
            "numInstances": svc.instances,
            "openPorts": ports or [{"port": 10000, "protocol": "TCP"}],
            "healthCheckPath": svc.health_path or "",
            "url": svc.public_url or f"https://{slug}.onrender.com",
            "envSpecificDetails": deploy,
            "pullRequestPreviewsEnabled": "no",
            "previews": {"generation": "off"},
            "buildPlan": "starter",
            "maintenanceMode": {"enabled": False, "uri": ""},
        }
        if svc.type.ssh:
            details["sshAddress"] = ssh
    elif svc.kind is Kind.PSERV:
        details = {
            "env": runtime,
            "runtime": runtime,
            "plan": svc.plan,
            "region": svc.region,
            "numInstances": svc.instances,
            "openPorts": ports,
            "url": f"{slug}:{svc.ports[0] if svc.ports else 10000}",
            "sshAddress": ssh,
            "envSpecificDetails": deploy,
            "buildPlan": "starter",
        }
    elif svc.kind is Kind.WORKER:
        details = {
            "env": runtime,
            "runtime": runtime,
            "plan": svc.plan,
            "region": svc.region,
            "numInstances": svc.instances,
            "sshAddress": ssh,
            "envSpecificDetails": deploy,
            "buildPlan": "starter",
        }
    elif svc.kind is Kind.CRON:
        details = {
            "env": runtime,
            "runtime": runtime,
            "plan": svc.plan,
            "region": svc.region,
            "schedule": "0 3 * * *",
            "lastSuccessfulRunAt": "2026-11-30T03:00:12Z",
            "envSpecificDetails": deploy,
        }
    else:
        details = {
            "url": svc.public_url,
            "buildCommand": svc.build_command or "npm run build",
            "publishPath": "dist",
            "pullRequestPreviewsEnabled": "no",
        }
    if svc.name == AUTOSCALED:
        details["numInstances"] = 1
        details["autoscaling"] = {
            "enabled": True,
            "min": 1,
            "max": svc.instances,
            "criteria": {
                "cpu": {"enabled": True, "percentage": 70},
                "memory": {"enabled": False, "percentage": 0},
            },
        }
    data.services.append(
        {
            "id": sid,
            "name": svc.name,
            "slug": slug,
            "type": API_TYPES[svc.kind],
            "ownerId": OWNER["id"],
            "repo": "https://github.com/acme/platform",
            "branch": "main",
            "autoDeploy": "yes",
            "autoDeployTrigger": "commit",
            "suspended": "not_suspended",
            "suspenders": [],
            "rootDir": "",
            "notifyOnFail": "default",
            "createdAt": "2026-05-01T10:00:00.000000Z",
            "updatedAt": STAMP,
            "dashboardUrl": f"https://dashboard.render.com/web/{sid}",
            "serviceDetails": details,
        }
    )
    if svc.kind is not Kind.STATIC:
        data.env_vars[sid] = [{"key": v.key, "value": v.value} for v in svc.env]
        data.instances[sid] = [
            {"id": f"{sid}-{h(f'{svc.name}{i}', 5)}", "createdAt": STAMP}
            for i in range(svc.instances)
        ]


def _allow(svc: Service) -> list[dict[str, str]]:
    return [{"cidrBlock": c, "description": "allowed"} for c in svc.ip_allow_list or ()]


def _render_postgres(data: RenderData, svc: Service) -> None:
    assert svc.host is not None
    user, db, pw = svc.user or "acme", svc.database or "acme", svc.password or "pw"
    external = f"{svc.host}.{svc.region}-postgres.render.com"
    data.postgres.append(
        {
            "id": svc.host,
            "name": svc.name,
            "databaseName": db,
            "databaseUser": user,
            "plan": svc.plan,
            "region": svc.region,
            "status": "available",
            "role": "primary",
            "version": "16",
            "ipAllowList": _allow(svc),
            "highAvailabilityEnabled": False,
            "readReplicas": [],
            "diskSizeGB": 15,
            "owner": OWNER,
            "dashboardUrl": f"https://dashboard.render.com/d/{svc.host}",
            "createdAt": "2026-05-01T10:00:00Z",
            "updatedAt": STAMP,
        }
    )
    data.connection_info[svc.host] = {
        "password": pw,
        "internalConnectionString": f"postgresql://{user}:{pw}@{svc.host}/{db}",
        "externalConnectionString": f"postgresql://{user}:{pw}@{external}/{db}",
        "psqlCommand": f"PGPASSWORD={pw} psql -h {external} -U {user} {db}",
    }


def _render_keyvalue(data: RenderData, svc: Service) -> None:
    assert svc.host is not None
    external = f"{svc.region}-keyvalue.render.com:6379"
    data.key_value.append(
        {
            "id": svc.host,
            "name": svc.name,
            "plan": svc.plan,
            "region": svc.region,
            "status": "available",
            "version": "8.1.4",
            "ipAllowList": _allow(svc),
            "options": {"maxmemoryPolicy": "allkeys_lru", "persistenceMode": "off"},
            "owner": OWNER,
            "dashboardUrl": f"https://dashboard.render.com/r/{svc.host}",
            "createdAt": "2026-05-01T10:00:00Z",
            "updatedAt": STAMP,
        }
    )
    pw = svc.password
    data.connection_info[svc.host] = {
        "internalConnectionString": (
            f"redis://default:{pw}@{svc.host}:6379"
            if pw and svc.internal_auth
            else f"redis://{svc.host}:6379"
        ),
        "externalConnectionString": f"rediss://{svc.host}:{pw or 'pw'}@{external}",
        "cliCommand": f"valkey-cli --user {svc.host} -h {external.split(':')[0]} -p 6379 --tls",
    }


# ---- Railway --------------------------------------------------------------------------

PROJECT = {"id": "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", "name": "shop"}


def railway_fixture() -> dict[str, Any]:
    """The shop fixture as the API can describe it: a port is a `PORT` variable, a database's
    credentials are its template's variables."""
    doc = yaml.safe_load((ROOT / "fixtures" / "railway-shop.yaml").read_text())
    out = []
    for node in doc["services"]:
        node = dict(node)
        env = dict(node.get("env") or {})
        if node["type"] in ("web", "pserv") and node.get("ports"):
            env.setdefault("PORT", node["ports"][0])
        if node["type"] == "postgres":
            host = node["host"]
            env.update(
                {
                    "PGHOST": host,
                    "PGPORT": 5432,
                    "PGUSER": node["user"],
                    "PGPASSWORD": node["password"],
                    "PGDATABASE": node["database"],
                }
            )
        if node["type"] == "keyvalue":
            env.update(
                {
                    "REDISHOST": node["host"],
                    "REDISPORT": 6379,
                    "REDISUSER": "default",
                    "REDISPASSWORD": node["password"],
                }
            )
            node["user"] = "default"
        if env:
            node["env"] = env
        out.append(node)
    return {**doc, "services": out}


def railway_data(ws: Workspace) -> RailwayData:
    envs = {
        name: {"id": f"env-{h(name, 8)}-0000-4000-8000-{h(name + 'x', 12)}", "name": name}
        for name in ws.environments
    }
    sids = {s.name: f"{h(s.name, 8)}-1111-4111-8111-{h(s.name + 'y', 12)}" for s in ws.services}
    data = RailwayData(
        project={
            **PROJECT,
            "environments": list(envs.values()),
            "services": [{"id": sids[s.name], "name": s.name} for s in ws.services],
        },
        project_token={"project": PROJECT, "environment": envs["staging"]},
    )
    for name, info in ws.environments.items():
        env_id = envs[name]["id"]
        tags = ["SUPPORTS_IPV4_PRIVNETS"] if info.network is Network.DUAL_STACK else []
        nodes = []
        data.variables[env_id] = {}
        for svc in (s for s in ws.services if s.environment == name):
            nodes.append({"node": _railway_instance(svc, sids[svc.name], env_id)})
            variables = {v.key: str(v.value) for v in svc.env if v.value is not None}
            variables["RAILWAY_PRIVATE_DOMAIN"] = svc.host or ""
            if svc.public_url:
                variables["RAILWAY_PUBLIC_DOMAIN"] = svc.public_url.removeprefix("https://")
            data.variables[env_id][sids[svc.name]] = variables
        data.environments[env_id] = {
            "environment": {**envs[name], "serviceInstances": {"edges": nodes}},
            "privateNetworks": [{"name": "railway", "dnsName": "railway.internal", "tags": tags}],
            "shared": {},
        }
    return data


def _railway_instance(svc: Service, sid: str, env_id: str) -> dict[str, Any]:
    image = {
        Kind.POSTGRES: "ghcr.io/railwayapp-templates/postgres-ssl:16",
        Kind.KEYVALUE: "redis:8",
    }
    domains = []
    if svc.public_url and svc.ports:
        domains = [{"domain": svc.public_url.removeprefix("https://"), "targetPort": svc.ports[0]}]
    deployment = {
        "status": "SUCCESS",
        "instances": [{"status": "RUNNING"} for _ in range(svc.instances)],
    }
    return {
        "serviceId": sid,
        "serviceName": svc.name,
        "environmentId": env_id,
        "numReplicas": svc.instances,
        "region": "us-west2",
        "healthcheckPath": svc.health_path,
        "buildCommand": svc.build_command,
        "startCommand": None,
        "cronSchedule": None,
        "source": {
            "image": image.get(svc.kind),
            "repo": None if svc.kind in image else "acme/shop",
        },
        "domains": {"serviceDomains": domains, "customDomains": []},
        "latestDeployment": deployment,
        "activeDeployments": [deployment],
    }


# ---- writing --------------------------------------------------------------------------


def _write_fixture(doc: dict[str, Any], path: Path, source: str) -> Workspace:
    text = HEADER.format(source=source) + yaml.safe_dump(doc, sort_keys=False, width=100)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return load(path)


def generate(folder: Path = DATA) -> list[Path]:
    """Write everything; the paths written."""
    render = _write_fixture(
        render_fixture(), folder / "render-acme.yaml", "fixtures/render-acme.yaml"
    )
    render_data(render).write(folder / "render-acme")
    railway = _write_fixture(
        railway_fixture(), folder / "railway-shop.yaml", "fixtures/railway-shop.yaml"
    )
    railway_data(railway).write(folder / "railway-shop")
    return sorted(p for p in folder.rglob("*") if p.is_file())


if __name__ == "__main__":
    for written in generate(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA):
        print(written)
