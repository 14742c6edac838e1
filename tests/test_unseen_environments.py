"""The running instance as a source: environments as Render's and Railway's runtimes fill them.

Each dump is what `env` prints inside such an instance: the shell's and the container's
variables, the toolchain's, the platform's own, and the few the application reads.
Only the last may become targets.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from pnet import doctor
from pnet.model import Kind
from pnet.sources import blueprint, environment, load_workspace

SHELL = {
    "HOME": "/opt/render",
    "PATH": "/opt/render/project/.venv/bin:/usr/local/bin:/usr/bin:/bin",
    "HOSTNAME": "srv-d0a1b2c3d4e5f6g7h8i9-7c9f8b6d4-x2k9p",
    "PWD": "/opt/render/project/src",
    "SHLVL": "1",
    "TERM": "xterm-256color",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "_": "/usr/bin/env",
    "KUBERNETES_SERVICE_HOST": "10.96.0.1",
    "KUBERNETES_PORT": "tcp://10.96.0.1:443",
    "SSH_CONNECTION": "10.0.0.1 50000 10.204.65.37 22",
}
RENDER = {
    **SHELL,
    "RENDER": "true",
    "IS_PULL_REQUEST": "false",
    "RENDER_GIT_BRANCH": "main",
    "RENDER_GIT_REPO_SLUG": "acme/platform",
    "RENDER_CPU_COUNT": "1",
    "RENDER_INTERNAL_IP": "10.204.65.37",
    "RENDER_INSTANCE_ID": "srv-d0a1b2c3d4e5f6g7h8i9-x2k9p",
}
WEB_PYTHON = {
    **RENDER,
    "RENDER_SERVICE_ID": "srv-d0a1b2c3d4e5f6g7h8i9",
    "RENDER_SERVICE_NAME": "api-x7f2",
    "RENDER_SERVICE_TYPE": "web",
    "RENDER_DISCOVERY_SERVICE": "api-x7f2-discovery",
    "RENDER_EXTERNAL_HOSTNAME": "api-x7f2.onrender.com",
    "RENDER_EXTERNAL_URL": "https://api-x7f2.onrender.com",
    "RENDER_WEB_CONCURRENCY": "2",
    "WEB_CONCURRENCY": "2",
    "PORT": "10000",
    "GUNICORN_CMD_ARGS": "--preload --access-logfile - --bind=0.0.0.0:10000",
    "FORWARDED_ALLOW_IPS": "*",
    "PYTHON_VERSION": "3.11.9",
    "PYTHONUNBUFFERED": "1",
    "PYTHON_GET_PIP_URL": "https://github.com/pypa/get-pip/raw/66d8a0f/public/get-pip.py",
    "POETRY_VERSION": "1.8.3",
    "UV_CACHE_DIR": "/opt/render/.cache/uv",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "VIRTUAL_ENV": "/opt/render/project/.venv",
    "DATABASE_URL": "postgresql://acme:s3cretpw@dpg-d0a1b2c3d4e5f6g7h8i9-a/acme",
    "SEARCH_HOSTPORT": "search-q1w2:9200",
    "SECRET_KEY": "7Jq9cS0z1fY5m3w0kq3e2x9b8H1j4K5L6M7N8O9P0Q=",
    "LOG_LEVEL": "info",
}
PSERV_NODE = {
    **RENDER,
    "RENDER_SERVICE_ID": "srv-e1f2g3h4i5j6k7l8m9n0",
    "RENDER_SERVICE_NAME": "search-q1w2",
    "RENDER_SERVICE_TYPE": "pserv",
    "RENDER_EXTERNAL_HOSTNAME": "",
    "RENDER_EXTERNAL_URL": "",
    "PORT": "9200",
    "NODE_ENV": "production",
    "NODE_VERSION": "20.11.1",
    "NODE_OPTIONS": "--max-old-space-size=460",
    "NPM_CONFIG_PRODUCTION": "false",
    "YARN_VERSION": "1.22.19",
    "COREPACK_ENABLE_STRICT": "0",
    "DATABASE_URL": "postgresql://acme:s3cretpw@dpg-d0a1b2c3d4e5f6g7h8i9-a/acme",
}
WORKER_RUBY = {
    **RENDER,
    "RENDER_SERVICE_ID": "srv-w1x2y3z4a5b6c7d8e9f0",
    "RENDER_SERVICE_NAME": "mailer-j8k9",
    "RENDER_SERVICE_TYPE": "worker",
    "RAILS_ENV": "production",
    "RUBY_VERSION": "3.3.0",
    "BUNDLE_WITHOUT": "development:test",
    "GEM_HOME": "/opt/render/project/.gems",
    "PASSENGER_PORT": "10000",
    "MALLOC_ARENA_MAX": "2",
    "REDIS_URL": "redis://red-c0d1e2f3g4h5i6j7k8l9:6379/1",
    "API_INTERNAL_URL": "http://api-x7f2:10000",
}
CRON_GO = {
    **RENDER,
    "RENDER_SERVICE_ID": "crn-c1d2e3f4g5h6i7j8k9l0",
    "RENDER_SERVICE_NAME": "nightly-a9b8",
    "RENDER_SERVICE_TYPE": "cron",
    "GO_VERSION": "1.22.1",
    "GOPATH": "/opt/render/go",
    "GOFLAGS": "-mod=vendor",
    "CGO_ENABLED": "0",
    "ROCKET_PORT": "10000",
    "DATABASE_URL": "postgresql://acme:s3cretpw@dpg-d0a1b2c3d4e5f6g7h8i9-a:5432/acme",
}
RAILWAY = {
    "HOME": "/root",
    "PATH": "/root/.nix-profile/bin:/usr/local/bin:/usr/bin:/bin",
    "HOSTNAME": "4f9c2d1a7b3e",
    "RAILWAY_PROJECT_NAME": "shop",
    "RAILWAY_PROJECT_ID": "1d2e3f4a-5b6c-7d8e-9f0a-1b2c3d4e5f6a",
    "RAILWAY_ENVIRONMENT_ID": "aa11bb22-cc33-dd44-ee55-ff6677889900",
    "RAILWAY_REPLICA_REGION": "us-west2",
    "RAILWAY_DEPLOYMENT_ID": "9e8d7c6b-5a49-3827-1605-f4e3d2c1b0a9",
    "NIXPACKS_METADATA": "node",
    "NIXPACKS_PATH": "/app/node_modules/.bin:",
    "NIX_PATH": "nixpkgs=/nix/var/nix/profiles/per-user/root/channels",
    "RAILPACK_NODE_VERSION": "20",
    "MISE_DATA_DIR": "/mise",
}
RAILWAY_API = {
    **RAILWAY,
    "RAILWAY_ENVIRONMENT": "staging",
    "RAILWAY_ENVIRONMENT_NAME": "staging",
    "RAILWAY_SERVICE_NAME": "api",
    "RAILWAY_SERVICE_ID": "5a6b7c8d-9e0f-1a2b-3c4d-5e6f7a8b9c0d",
    "RAILWAY_PRIVATE_DOMAIN": "api.railway.internal",
    "RAILWAY_PUBLIC_DOMAIN": "api-staging.up.railway.app",
    "PORT": "3000",
    "NODE_ENV": "production",
    "DATABASE_URL": "postgresql://postgres:Xk9pQ2mWv7@postgres.railway.internal:5432/railway",
    "DATABASE_PUBLIC_URL": "postgresql://postgres:Xk9pQ2mWv7@roundhouse.proxy.rlwy.net:11105/railway",
    "REDIS_URL": "redis://default:R3d1sPw@redis.railway.internal:6379",
}
RAILWAY_POSTGRES = {
    **RAILWAY,
    "RAILWAY_ENVIRONMENT": "production",
    "RAILWAY_SERVICE_NAME": "Postgres",
    "RAILWAY_PRIVATE_DOMAIN": "postgres.railway.internal",
    "RAILWAY_TCP_PROXY_DOMAIN": "roundhouse.proxy.rlwy.net",
    "RAILWAY_TCP_PROXY_PORT": "11105",
    "RAILWAY_TCP_APPLICATION_PORT": "5432",
    "PGDATA": "/var/lib/postgresql/data/pgdata",
    "PG_MAJOR": "16",
    "PG_VERSION": "16.4-1.pgdg120+1",
    "GOSU_VERSION": "1.17",
    "POSTGRES_PASSWORD": "Xk9pQ2mWv7",
    "PGHOST": "postgres.railway.internal",
}

BLUEPRINT = """\
services:
  - type: web
    name: api
    runtime: python
    region: frankfurt
    plan: standard
    envVars:
      - key: DATABASE_URL
        fromDatabase: {name: acme-db, property: connectionString}
      - key: SEARCH_HOSTPORT
        fromService: {name: search, type: pserv, property: hostport}
  - type: pserv
    name: search
    runtime: node
    region: frankfurt
    envVars:
      - {key: PORT, value: 9200}
  - type: worker
    name: mailer
    runtime: ruby
    region: frankfurt
  - type: cron
    name: nightly
    runtime: go
    region: frankfurt
    schedule: "0 3 * * *"
databases:
  - name: acme-db
    region: frankfurt
    ipAllowList: []
"""

CASES = {
    "render-web-python": (
        WEB_PYTHON,
        "api",
        Kind.WEB,
        ["DATABASE_URL", "LOG_LEVEL", "SEARCH_HOSTPORT", "SECRET_KEY"],
    ),
    "render-pserv-node": (PSERV_NODE, "search", Kind.PSERV, ["DATABASE_URL"]),
    "render-worker-ruby": (
        WORKER_RUBY,
        "mailer",
        Kind.WORKER,
        ["API_INTERNAL_URL", "RAILS_ENV", "REDIS_URL"],
    ),
    "render-cron-go": (CRON_GO, "nightly", Kind.CRON, ["DATABASE_URL"]),
    "railway-api": (
        RAILWAY_API,
        "api",
        Kind.WEB,
        ["DATABASE_PUBLIC_URL", "DATABASE_URL", "REDIS_URL"],
    ),
    "railway-postgres": (RAILWAY_POSTGRES, "Postgres", Kind.PSERV, ["PGHOST", "POSTGRES_PASSWORD"]),
}


def in_folder(tmp_path: Path, blueprint: str | None) -> Path:
    (tmp_path / ".git").mkdir()
    if blueprint is not None:
        (tmp_path / "render.yaml").write_text(blueprint, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_service_reads_only_its_own_variables(case: str, tmp_path: Path) -> None:
    env, name, kind, reads = CASES[case]
    _, me = load_workspace(environ=env, cwd=in_folder(tmp_path, None))
    assert me is not None
    assert (me.name, me.kind) == (name, kind)
    assert [v.key for v in me.env] == reads


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("with_blueprint", [False, True], ids=["alone", "render.yaml"])
def test_the_doctor_inside_an_instance_checks_only_addresses(
    case: str, with_blueprint: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, name, _, _ = CASES[case]
    monkeypatch.chdir(in_folder(tmp_path, BLUEPRINT if with_blueprint else None))
    out, err = io.StringIO(), io.StringIO()
    rc = doctor.main(["--offline", "--format", "json"], stdout=out, stderr=err, environ=env)
    assert (rc, err.getvalue()) == (0, "")
    text = out.getvalue()
    data = json.loads(text)
    assert data["source"]["name"] == name
    subjects = {c["target"] for c in data["checks"]}
    for key in env:
        if environment.is_system_variable(key) or key in ("GUNICORN_CMD_ARGS", "PORT"):
            assert not any(s == key or s.startswith(f"{key}[") for s in subjects), key
    for secret in ("s3cretpw", "Xk9pQ2mWv7", "R3d1sPw", "7Jq9cS0z"):
        assert secret not in text


def test_a_blueprint_in_the_project_root_gives_the_region(tmp_path: Path) -> None:
    root = tmp_path / "opt" / "render" / "project" / "src"
    root.mkdir(parents=True)
    (root / "render.yaml").write_text(BLUEPRINT, encoding="utf-8")
    (tmp_path / "home").mkdir()
    elsewhere = in_folder(tmp_path / "home", None)
    found = environment.find_blueprint(elsewhere, WORKER_RUBY, roots=(root,))
    assert found == root / "render.yaml"
    ws, me = environment.from_environ(WORKER_RUBY, blueprint=blueprint.load(found))
    assert (me.name, me.kind, me.region) == ("mailer", Kind.WORKER, "frankfurt")
    assert {s.name for s in ws.services} == {"api", "search", "mailer", "nightly", "acme-db"}


def test_railway_environment_from_the_older_variable() -> None:
    env = {k: v for k, v in RAILWAY_API.items() if k != "RAILWAY_ENVIRONMENT_NAME"}
    ws, me = load_workspace(environ=env, cwd=None)
    assert me is not None
    assert me.environment == "staging"
    assert ws.project == "shop"


def test_railway_tcp_proxy_is_a_note_not_a_port() -> None:
    ws, me = load_workspace(environ=RAILWAY_POSTGRES, cwd=None)
    assert me is not None
    assert me.ports == (5432,)
    assert me.host == "postgres.railway.internal"
    assert any("roundhouse.proxy.rlwy.net:11105 forwards to port 5432" in n for n in ws.notes)
