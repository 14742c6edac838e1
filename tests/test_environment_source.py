"""The running instance's environment as a source, alone and merged with a Blueprint."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pnet.errors import InputError
from pnet.model import Kind, Platform
from pnet.sources import blueprint, environment, load_workspace

# What `env` prints inside a Render web service (documented variables, PLATFORMS.md 1.5),
# plus the container's own plumbing.
RENDER_DUMP = {
    "RENDER": "true",
    "IS_PULL_REQUEST": "false",
    "RENDER_SERVICE_ID": "srv-cq3v8lbtq21c73e5f0g0",
    "RENDER_SERVICE_NAME": "api-x7f2",
    "RENDER_SERVICE_TYPE": "web",
    "RENDER_INSTANCE_ID": "srv-cq3v8lbtq21c73e5f0g0-5c9d8f7b6-k2m4p",
    "RENDER_DISCOVERY_SERVICE": "api-x7f2-discovery",
    "RENDER_EXTERNAL_HOSTNAME": "api-x7f2.onrender.com",
    "RENDER_EXTERNAL_URL": "https://api-x7f2.onrender.com",
    "RENDER_GIT_BRANCH": "main",
    "RENDER_GIT_COMMIT": "4f1c2e9b7a6d5c3b2a1f0e9d8c7b6a5f4e3d2c1b",
    "RENDER_GIT_REPO_SLUG": "acme/platform",
    "RENDER_CPU_COUNT": "0.5",
    "RENDER_WEB_CONCURRENCY": "2",
    "WEB_CONCURRENCY": "2",
    "PORT": "8080",
    "PYTHON_VERSION": "3.12.3",
    "GUNICORN_CMD_ARGS": "--preload --access-logfile - --bind=0.0.0.0:10000",
    "FORWARDED_ALLOW_IPS": "*",
    "HOME": "/opt/render",
    "PATH": "/opt/render/project/src/.venv/bin:/usr/local/bin:/usr/bin:/bin",
    "HOSTNAME": "srv-cq3v8lbtq21c73e5f0g0-5c9d8f7b6-k2m4p",
    "PWD": "/opt/render/project/src",
    "SHLVL": "1",
    "TERM": "xterm-256color",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "KUBERNETES_SERVICE_HOST": "10.96.0.1",
    "KUBERNETES_PORT": "tcp://10.96.0.1:443",
    "SSH_CONNECTION": "10.0.0.5 41234 10.0.3.7 22",
    "DATABASE_URL": "postgresql://acme:Hx9sK2pQ7vW4@dpg-d0a1b2c3d4e5f6g7h8i9-a/acme",
    "SEARCH_URL": "http://search-q1w2:9200",
    "SESSION_SECRET": "3f9b1c0e7a2d4f6b8c1e3a5d7f9b0c2e",
}

# What `env` prints inside a Railway service (PLATFORMS.md 2.3).
RAILWAY_DUMP = {
    "RAILWAY_ENVIRONMENT": "production",
    "RAILWAY_ENVIRONMENT_NAME": "production",
    "RAILWAY_ENVIRONMENT_ID": "8d2f6f4e-6a0b-4c2e-9d7e-2f1a3b4c5d6e",
    "RAILWAY_PROJECT_NAME": "shop",
    "RAILWAY_PROJECT_ID": "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9",
    "RAILWAY_SERVICE_NAME": "api",
    "RAILWAY_SERVICE_ID": "c0ffee00-1234-4abc-9def-0123456789ab",
    "RAILWAY_PRIVATE_DOMAIN": "api.railway.internal",
    "RAILWAY_PUBLIC_DOMAIN": "api-production.up.railway.app",
    "RAILWAY_STATIC_URL": "api-production.up.railway.app",
    "RAILWAY_REPLICA_ID": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
    "RAILWAY_REPLICA_REGION": "us-west2",
    "RAILWAY_DEPLOYMENT_ID": "0a1b2c3d-4e5f-4061-8728-394a5b6c7d8e",
    "RAILWAY_SNAPSHOT_ID": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
    "RAILWAY_GIT_BRANCH": "main",
    "RAILWAY_GIT_COMMIT_SHA": "7e6d5c4b3a291807f6e5d4c3b2a1908f7e6d5c4b",
    "RAILWAY_TCP_PROXY_DOMAIN": "roundhouse.proxy.rlwy.net",
    "RAILWAY_TCP_PROXY_PORT": "11105",
    "RAILWAY_TCP_APPLICATION_PORT": "3000",
    "PORT": "3000",
    "NODE_ENV": "production",
    "DATABASE_URL": "postgresql://postgres:Zk7wE2rR9tQ1@postgres.railway.internal:5432/railway",
    "REDIS_URL": "redis://default:Lp0oK9iJ8uH7@redis.railway.internal:6379",
    "HOME": "/root",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOSTNAME": "a1b2c3d4e5f6",
}

BLUEPRINT = """\
services:
  - type: web
    name: api
    runtime: python
    region: frankfurt
    plan: standard
    envVars:
      - {key: PORT, value: 8080}
      - key: DATABASE_URL
        fromDatabase: {name: acme-db, property: connectionString}
  - type: pserv
    name: search
    runtime: docker
    region: frankfurt
    envVars: [{key: PORT, value: 9200}]
databases:
  - name: acme-db
    region: frankfurt
    ipAllowList: []
"""


def test_render_instance_alone() -> None:
    ws, me = environment.from_environ(RENDER_DUMP)
    assert ws.platform is Platform.RENDER
    assert (me.name, me.kind, me.host, me.host_known) == ("api", Kind.WEB, "api-x7f2", True)
    assert me.id == "srv-cq3v8lbtq21c73e5f0g0"
    assert me.public_url == "https://api-x7f2.onrender.com"
    assert me.ports == (8080,)
    assert me.region is None and me.plan is None
    assert me.discovery_host == "api-x7f2-discovery"
    keys = {v.key for v in me.env}
    assert {"DATABASE_URL", "SEARCH_URL", "SESSION_SECRET"} <= keys
    assert all(v.origin == "environment" for v in me.env)
    assert not keys & {"PORT", "RENDER", "IS_PULL_REQUEST", "HOME", "PATH", "HOSTNAME", "PWD"}
    # Render's Python runtime sets GUNICORN_CMD_ARGS for the service's own bind, like PORT
    assert "GUNICORN_CMD_ARGS" not in keys
    assert not any(k.startswith(("RENDER_", "KUBERNETES_", "LC_", "SSH_")) for k in keys)
    assert ws.services == (me,)
    assert any("region" in n for n in ws.notes)


def test_render_defaults_without_port() -> None:
    env = {k: v for k, v in RENDER_DUMP.items() if k != "PORT"}
    env["RENDER_SERVICE_TYPE"] = "pserv"
    env["RENDER_EXTERNAL_URL"] = ""
    _, me = environment.from_environ(env)
    assert (me.kind, me.ports, me.public_url) == (Kind.PSERV, (10000,), None)


def test_render_worker_has_no_internal_address() -> None:
    env = dict(RENDER_DUMP, RENDER_SERVICE_TYPE="worker", RENDER_SERVICE_NAME="mailer-j8k9")
    _, me = environment.from_environ(env)
    assert me.kind is Kind.WORKER and me.host is None and me.ports == ()
    assert me.name == "mailer"


def test_render_instance_merged_with_a_blueprint() -> None:
    bp = blueprint.loads(BLUEPRINT, "render.yaml")
    ws, me = environment.from_environ(RENDER_DUMP, blueprint=bp)
    assert (me.name, me.region, me.plan, me.host, me.host_known) == (
        "api",
        "frankfurt",
        "standard",
        "api-x7f2",
        True,
    )
    assert me.ports == (8080,)
    db_url = me.env_var("DATABASE_URL")
    assert db_url is not None and db_url.origin == "environment"
    assert db_url.value and db_url.value.startswith("postgresql://")
    assert (db_url.ref_service, db_url.ref_type, db_url.ref_property) == (
        "acme-db",
        "postgres",
        "connectionString",
    )
    names = [s.name for s in ws.services]
    assert names[0] == "api" and set(names) == {"api", "search", "acme-db"}
    assert ws.name == "acme/platform"
    search = ws.service("search")
    assert search is not None and search.region == "frankfurt" and not search.host_known


def test_render_instance_not_in_the_blueprint() -> None:
    bp = blueprint.loads(BLUEPRINT, "render.yaml")
    env = dict(RENDER_DUMP, RENDER_SERVICE_NAME="billing-m3n4")
    ws, me = environment.from_environ(env, blueprint=bp)
    assert me.name == "billing" and me.region is None
    assert len(ws.services) == 4
    assert any("has no web service" in n for n in ws.notes)


def test_railway_instance() -> None:
    ws, me = environment.from_environ(RAILWAY_DUMP)
    assert ws.platform is Platform.RAILWAY and ws.project == "shop" and ws.name == "shop"
    assert (me.name, me.host, me.environment, me.project, me.region) == (
        "api",
        "api.railway.internal",
        "production",
        "shop",
        "us-west2",
    )
    assert me.kind is Kind.WEB
    assert me.public_url == "https://api-production.up.railway.app"
    assert me.ports == (3000,)
    keys = {v.key for v in me.env}
    assert keys == {"DATABASE_URL", "REDIS_URL"}  # NODE_ENV is the Node runtime's own
    assert any("roundhouse.proxy.rlwy.net:11105" in n for n in ws.notes)


def test_railway_private_service_without_port() -> None:
    env = {
        "RAILWAY_SERVICE_NAME": "payments",
        "RAILWAY_ENVIRONMENT_NAME": "staging",
        "RAILWAY_PROJECT_NAME": "shop",
    }
    _, me = environment.from_environ(env)
    assert (me.kind, me.host, me.ports, me.environment) == (
        Kind.PSERV,
        "payments.railway.internal",
        (),
        "staging",
    )


def test_outside_any_instance() -> None:
    with pytest.raises(InputError) as info:
        environment.from_environ({"HOME": "/root", "PATH": "/bin"})
    assert str(info.value) == (
        "not inside a Render or Railway instance: give --workspace FILE, --blueprint FILE "
        "or an API key"
    )


def test_bad_port_is_one_line() -> None:
    with pytest.raises(InputError) as info:
        environment.from_environ(dict(RENDER_DUMP, PORT="http"))
    assert str(info.value) == "environment: PORT is 'http': expected a port from 1 to 65535"


# ---- finding render.yaml ------------------------------------------------------------------


def test_find_blueprint_in_cwd_and_parents(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "render.yaml").write_text(BLUEPRINT)
    sub = repo / "services" / "api"
    sub.mkdir(parents=True)
    assert environment.find_blueprint(repo, {}) == repo / "render.yaml"
    assert environment.find_blueprint(sub, {}) == repo / "render.yaml"


def test_find_blueprint_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / "render.yaml").write_text(BLUEPRINT)
    repo = tmp_path / "other"
    (repo / ".git").mkdir(parents=True)
    assert environment.find_blueprint(repo, {}, roots=()) is None


def test_find_blueprint_in_renders_checkout(tmp_path: Path) -> None:
    checkout = tmp_path / "opt" / "render" / "project" / "src"
    checkout.mkdir(parents=True)
    (checkout / "render.yaml").write_text(BLUEPRINT)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ".git").mkdir(parents=True)
    found = environment.find_blueprint(elsewhere, RENDER_DUMP, roots=(checkout,))
    assert found == checkout / "render.yaml"
    assert environment.find_blueprint(elsewhere, RAILWAY_DUMP, roots=(checkout,)) is None


# ---- the dispatcher -----------------------------------------------------------------------


def test_load_workspace_from_the_environment_and_a_found_blueprint(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "render.yaml").write_text(BLUEPRINT)
    ws, me = load_workspace(environ=RENDER_DUMP, cwd=tmp_path)
    assert me is not None and me.region == "frankfurt"
    assert ws.service("acme-db") is not None


def test_load_workspace_outside_an_instance_names_the_blueprint(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "render.yaml").write_text(BLUEPRINT)
    with pytest.raises(InputError) as info:
        load_workspace(environ={}, cwd=tmp_path)
    message = str(info.value)
    assert message.startswith("not inside a Render or Railway instance")
    assert f"try --blueprint {tmp_path / 'render.yaml'}" in message


def test_load_workspace_fixture_and_blueprint(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent / "fixtures"
    ws, me = load_workspace(workspace=str(root / "render-healthy.yaml"), environ={})
    assert me is None and ws.services
    path = tmp_path / "render.yaml"
    path.write_text(BLUEPRINT)
    ws, me = load_workspace(blueprint=str(path), environ={})
    assert me is None and ws.service("api") is not None
    ws, me = load_workspace(blueprint=str(path), environ=RENDER_DUMP)
    assert me is not None and me.host == "api-x7f2" and me.region == "frankfurt"


def test_load_workspace_refuses_two_sources() -> None:
    with pytest.raises(InputError) as info:
        load_workspace(workspace="a.yaml", blueprint="render.yaml", environ={})
    assert str(info.value) == "give one source, not --workspace and --blueprint"


def test_load_workspace_blueprint_errors_keep_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "render.yaml"
    path.write_text(
        textwrap.dedent(
            "services:\n  - type: web\n    name: a\n    runtime: node\n    region: mars\n"
        )
    )
    with pytest.raises(InputError) as info:
        load_workspace(blueprint=str(path), environ={})
    assert str(info.value).startswith(f"{path}:5: 'region' of service 'a' is 'mars'")


LEARNING_BLUEPRINT = """\
services:
  - type: web
    name: api
    runtime: python
    envVars:
      - {key: DATABASE_URL, fromDatabase: {name: acme-db, property: connectionString}}
      - {key: SEARCH_HOSTPORT, fromService: {name: search, type: pserv, property: hostport}}
      - {key: CACHE_URL, fromService: {name: cache, type: keyvalue, property: connectionString}}
      - {key: AUTH_HOST, fromService: {name: auth, type: web, property: host}}
      - key: WORKER_DISCOVERY
        fromService: {name: render, type: pserv, envVarKey: RENDER_DISCOVERY_SERVICE}
  - {type: pserv, name: search, runtime: docker}
  - {type: pserv, name: render, runtime: node}
  - {type: web, name: auth, runtime: node}
  - {type: keyvalue, name: cache, ipAllowList: []}
databases:
  - {name: acme-db}
"""


def test_instance_values_reveal_the_hosts_a_blueprint_cannot_know() -> None:
    bp = blueprint.loads(LEARNING_BLUEPRINT, "render.yaml")
    env = dict(
        RENDER_DUMP,
        SEARCH_HOSTPORT="search-q1w2:10000",
        CACHE_URL="redis://red-c0d1e2f3g4h5i6j7k8l9:6379",
        AUTH_HOST="evil.example.com",
        WORKER_DISCOVERY="render-r3n4-discovery",
    )
    ws, _me = environment.from_environ(env, blueprint=bp)
    db = ws.service("acme-db")
    assert db is not None
    assert (db.host, db.host_known, db.user, db.database, db.password) == (
        "dpg-d0a1b2c3d4e5f6g7h8i9-a",
        True,
        "acme",
        "acme",
        "Hx9sK2pQ7vW4",
    )
    search = ws.service("search")
    assert search is not None and (search.host, search.host_known) == ("search-q1w2", True)
    cache = ws.service("cache")
    assert cache is not None and cache.host == "red-c0d1e2f3g4h5i6j7k8l9" and cache.host_known
    render_svc = ws.service("render")
    assert render_svc is not None and render_svc.host == "render-r3n4"
    auth = ws.service("auth")
    assert auth is not None and (auth.host, auth.host_known) == ("auth", False)
    assert any("acme-db is dpg-d0a1b2c3d4e5f6g7h8i9-a" in n for n in ws.notes)


_ENV_KEYS = st.sampled_from(
    [
        *RENDER_DUMP,
        *RAILWAY_DUMP,
        "RENDER_SERVICE_TYPE",
        "RAILWAY_TCP_APPLICATION_PORT",
    ]
)
_ENV_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            "true",
            "web",
            "pserv",
            "worker",
            "cron",
            "static",
            "api-x7f2",
            "8080",
            "0",
            "99999",
            "a.railway.internal",
            "-discovery",
        ]
    ),
    st.text(max_size=12),
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_ENV_KEYS, _ENV_VALUES, max_size=12), st.booleans())
def test_any_environment_gives_a_service_or_one_line(env: dict[str, str], with_bp: bool) -> None:
    bp = blueprint.loads(LEARNING_BLUEPRINT, "render.yaml") if with_bp else None
    try:
        ws, me = environment.from_environ(env, blueprint=bp)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert me in ws.services


def test_a_worker_in_the_blueprint_keeps_no_internal_address() -> None:
    bp = blueprint.loads("services: [{type: worker, name: mailer, runtime: node}]\n", "render.yaml")
    env = dict(RENDER_DUMP, RENDER_SERVICE_TYPE="worker", RENDER_SERVICE_NAME="mailer-j8k9")
    _, me = environment.from_environ(env, blueprint=bp)
    assert (me.name, me.kind, me.host, me.ports) == ("mailer", Kind.WORKER, None, ())
