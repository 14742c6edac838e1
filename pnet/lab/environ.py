"""The environment a running instance gets from its platform, as the lab gives it.

Render (https://render.com/docs/environment-variables): `RENDER=true`, `IS_PULL_REQUEST`,
`RENDER_SERVICE_ID`, `RENDER_SERVICE_NAME` (the slug, which is the internal host),
`RENDER_SERVICE_TYPE`, `RENDER_INSTANCE_ID`, `RENDER_DISCOVERY_SERVICE` (web and private
services), `RENDER_EXTERNAL_URL` / `RENDER_EXTERNAL_HOSTNAME` (web services; empty otherwise)
and `PORT`. Railway (its variables reference): `RAILWAY_PROJECT_NAME/ID`,
`RAILWAY_ENVIRONMENT_NAME/ID`, `RAILWAY_SERVICE_NAME/ID`, `RAILWAY_PRIVATE_DOMAIN`,
`RAILWAY_PUBLIC_DOMAIN` (with a public domain), `RAILWAY_REPLICA_ID`, `RAILWAY_REPLICA_REGION`,
`RAILWAY_DEPLOYMENT_ID`, `PORT`, and a database template's connection variables.

Then the service's own variables from the fixture, which win over the platform's (a service
that sets `PORT` itself binds that). An id the fixture does not give is made up, stable for a
workspace and service (`srv-` and 20 characters on Render, a UUID on Railway); `PORT` is the
service's first port. Datastores on Render run no code of yours: their instances get only
the fixture's variables.

The file form (`write_file`) is one `KEY=VALUE` a line, the format of `/etc/environment`,
which PAM's pam_env reads for every login session: a value holding a newline is left out.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping
from pathlib import Path

from pnet.lab.network import Instance
from pnet.model import Kind, Platform, Service, Workspace
from pnet.platforms import railway

RENDER_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
RAILWAY_REGION = "us-west2"
NAMESPACE = uuid.UUID("6f1c8a52-5a1e-4c59-9a8e-70a6e6574000")


def _made_up(*parts: str, length: int) -> str:
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    return "".join(RENDER_ID_CHARS[b % len(RENDER_ID_CHARS)] for b in digest[:length])


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\0".join(parts)))


def instance_environment(
    workspace: Workspace, service: Service, instance: Instance
) -> dict[str, str]:
    """Every variable the instance's process sees from its platform and its service."""
    if workspace.platform is Platform.RENDER:
        out = _render(workspace, service, instance)
    else:
        out = _railway(workspace, service, instance)
    for var in service.env:
        if var.value is not None:
            out[var.key] = var.value
    return out


def _render(workspace: Workspace, svc: Service, inst: Instance) -> dict[str, str]:
    if svc.kind.is_datastore:
        return {}
    sid = svc.id or "srv-" + _made_up(workspace.name, svc.name, length=20)
    slug = svc.host if svc.host and svc.host_known else svc.name
    out = {
        "RENDER": "true",
        "IS_PULL_REQUEST": "false",
        "RENDER_SERVICE_ID": sid,
        "RENDER_SERVICE_NAME": slug,
        "RENDER_SERVICE_TYPE": str(svc.kind),
        "RENDER_INSTANCE_ID": f"{sid}-{_made_up(sid, inst.id, length=5)}",
        "RENDER_EXTERNAL_URL": "",
        "RENDER_EXTERNAL_HOSTNAME": "",
    }
    if svc.discovery_host:
        out["RENDER_DISCOVERY_SERVICE"] = svc.discovery_host
    if svc.kind is Kind.WEB and svc.public_url:
        url = svc.public_url.rstrip("/")
        out["RENDER_EXTERNAL_URL"] = url
        out["RENDER_EXTERNAL_HOSTNAME"] = url.split("://", 1)[-1].split("/", 1)[0]
    if svc.default_port is not None:
        out["PORT"] = str(svc.default_port)
    return out


def _railway(workspace: Workspace, svc: Service, inst: Instance) -> dict[str, str]:
    project = workspace.project or workspace.name
    env_name = svc.environment or "production"
    out = railway.provided_variables(
        name=svc.name,
        host=svc.host,
        public_domain=railway.public_domain_of(svc.public_url),
        environment=env_name,
        project=project,
        kind=svc.kind,
        port=svc.default_port,
        user=svc.user,
        password=svc.password,
        database=svc.database,
    )
    sid = svc.id or _uuid(project, svc.name)
    out.update(
        RAILWAY_PROJECT_ID=_uuid(project),
        RAILWAY_ENVIRONMENT_ID=_uuid(project, env_name),
        RAILWAY_SERVICE_ID=sid,
        RAILWAY_REPLICA_ID=_uuid(sid, env_name, inst.id),
        RAILWAY_REPLICA_REGION=svc.region or RAILWAY_REGION,
        RAILWAY_DEPLOYMENT_ID=_uuid(sid, env_name, "deployment"),
    )
    if svc.default_port is not None:
        out["PORT"] = str(svc.default_port)
    return out


def file_text(environ: Mapping[str, str]) -> str:
    return "".join(
        f"{key}={value}\n"
        for key, value in environ.items()
        if "\n" not in value and "\0" not in value and "=" not in key
    )


def write_file(path: Path, environ: Mapping[str, str]) -> None:
    """Write the variables, readable by root only (they hold the fixture's passwords)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(file_text(environ))


def read_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key:
            out[key] = value
    return out
