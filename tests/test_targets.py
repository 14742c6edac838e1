"""Targets: which values are addresses, and which service each one names."""

from __future__ import annotations

from pnet.model import EnvVar
from pnet.targets import parse_target, service_targets, targets_from_env
from tests.test_diagnose_kit import railway_ws, render_ws, rw, svc


def _targets(env: dict[str, str | None], *others):
    api = svc("api", "web", host="api-x7f2", ports=[8080], env=env)
    ws = render_ws(api, *others)
    return {t.subject: t for t in targets_from_env(ws, api)}


def test_every_url_scheme_is_a_target_and_secrets_and_flags_are_not():
    got = _targets(
        {
            "A": "http://search-q1w2:9200/x",
            "B": "rediss://red-c0d1e2f3g4h5i6j7k8l9:6379",
            "C": "postgres://u:p4ssw0rd@dpg-d0a1b2c3d4e5f6g7h8i9-a/db",
            "D": "mysql://db-h8j9:3306/x",
            "E": "amqps://mq-a1a1:5671",
            "F": "mongodb+srv://cluster0.example.net/db",
            "G": "nats://nats-b2b2:4222",
            "H": "wss://ws-c3c3:8000/socket",
            "SECRET_KEY": "3f9b1c0e7a2d4f6b8c1e3a5d7f9b0c2e",
            "DEBUG": "true",
            "WORKERS": "4",
            "TIME": "12:30",
            "GREETING": "hello world",
        }
    )
    assert set(got) == {"A", "B", "C", "D", "E", "F", "G", "H"}
    assert got["A"].scheme == "http" and got["A"].port == 9200 and got["A"].path == "/x"
    assert got["C"].port == 5432 and not got["C"].port_explicit
    assert got["C"].has_password and "p4ssw0rd" not in got["C"].display
    assert got["F"].host == "cluster0.example.net"


def test_bare_host_port_and_bare_internal_hosts():
    search = svc("search", host="search-q1w2", ports=[9200])
    db = svc("db", "postgres", host="dpg-d0a1b2c3d4e5f6g7h8i9-a")
    got = _targets(
        {
            "SEARCH": "search-q1w2:9200",
            "PGHOST": "dpg-d0a1b2c3d4e5f6g7h8i9-a",
            "PGPORT": "5432",
            "REDIS_HOST": "red-c0d1e2f3g4h5i6j7k8l9",
            "LOG_LEVEL": "info-ish",
            "REGION": "oregon",
        },
        search,
        db,
    )
    assert set(got) == {"SEARCH", "PGHOST", "REDIS_HOST"}
    assert got["SEARCH"].service == "search" and got["SEARCH"].scheme is None
    assert got["PGHOST"].service == "db" and got["PGHOST"].port == 5432
    assert got["REDIS_HOST"].service is None


def test_comma_separated_lists():
    a = svc("a", host="a-aaaa")
    b = svc("b", host="b-bbbb")
    got = _targets({"PEERS": "http://a-aaaa:8000, http://b-bbbb:8000"}, a, b)
    assert [got["PEERS[0]"].service, got["PEERS[1]"].service] == ["a", "b"]


def test_mapping_by_exact_host_slug_public_url_and_database_id():
    auth = svc("auth", "web", host="auth-77aq", public_url="https://auth-77aq.onrender.com")
    mailer = svc("mailer", "worker")
    unknown = svc("images", host="images", host_known=False)
    db = svc("db", "postgres", host="dpg-d0a1b2c3d4e5f6g7h8i9-a")
    kv = svc("kv", "keyvalue", host="red-c0d1e2f3g4h5i6j7k8l9")
    got = _targets(
        {
            "A": "http://auth-77aq:8000",
            "B": "https://auth-77aq.onrender.com",
            "C": "http://mailer-j8k9:8000",
            "D": "http://images-p0o9:7000",
            "E": "postgresql://u:x@dpg-d0a1b2c3d4e5f6g7h8i9-a.oregon-postgres.render.com/db",
            "F": "rediss://red-c0d1e2f3g4h5i6j7k8l9:pw12345@oregon-keyvalue.render.com:6379",
            "G": "http://auth-77aq-discovery:8000",
            "H": "http://recs-a1b3:5000",
        },
        auth,
        mailer,
        unknown,
        db,
        kv,
    )
    assert (got["A"].service, got["A"].how) == ("auth", "exact-host")
    assert (got["B"].service, got["B"].how) == ("auth", "public-url")
    assert (got["C"].service, got["C"].how) == ("mailer", "slug")
    assert (got["D"].service, got["D"].how) == ("images", "slug")
    assert (got["E"].service, got["E"].how) == ("db", "public-url")
    assert (got["F"].service, got["F"].how) == ("kv", "public-url")
    assert (got["G"].service, got["G"].how) == ("auth", "discovery")
    assert (got["H"].service, got["H"].how) == (None, "unresolved")


def test_railway_hosts_map_within_the_source_environment_first():
    api = rw("api", "web", env={"URL": "http://search.railway.internal:7700"})
    prod = rw("search", ports=[7700])
    stag = rw("search-stg", environment="staging", ports=[7700], host="search.railway.internal")
    ws = railway_ws(api, stag, prod)
    [t] = targets_from_env(ws, api)
    assert (t.service, t.how) == ("search", "exact-host")


def test_railway_public_domain_and_tcp_proxy():
    api = rw(
        "api",
        "web",
        env={
            "CATALOG": "https://catalog-production.up.railway.app",
            "DATABASE_PUBLIC_URL": "postgresql://postgres:pw123456@shuttle.proxy.rlwy.net:15140/railway",
        },
    )
    cat = rw("catalog", "web", public_url="https://catalog-production.up.railway.app")
    pg = rw("postgres", "postgres")
    ws = railway_ws(api, cat, pg)
    got = {t.subject: t for t in targets_from_env(ws, api)}
    assert (got["CATALOG"].service, got["CATALOG"].how) == ("catalog", "public-url")
    assert (got["DATABASE_PUBLIC_URL"].service, got["DATABASE_PUBLIC_URL"].how) == (
        "postgres",
        "public-url",
    )


def test_railway_reference_variables_resolve_from_the_model():
    api = rw("api", "web", ports=[3000], env={"PORT": "3000"})
    web = rw(
        "web",
        "web",
        env={"API": "http://${{api.RAILWAY_PRIVATE_DOMAIN}}:${{api.PORT}}", "X": "${{nope.Y}}"},
    )
    ws = railway_ws(api, web)
    [t] = targets_from_env(ws, web)
    assert (t.host, t.port, t.service) == ("api.railway.internal", 3000, "api")


def test_blueprint_references_map_directly():
    search = svc("search", host="search", host_known=False, ports=[9200])
    api = svc("api", "web")
    api = api.__class__(
        **{
            **api.__dict__,
            "env": (
                EnvVar(
                    "SEARCH_URL",
                    None,
                    origin="fromService",
                    ref_service="search",
                    ref_type="pserv",
                    ref_property="hostport",
                ),
            ),
        }
    )
    ws = render_ws(api, search)
    [t] = targets_from_env(ws, api)
    assert (t.service, t.how, t.scheme, t.port) == ("search", "reference", None, 9200)
    assert t.reference and "hostport" in t.reference


def test_parse_target_accepts_urls_hostports_and_service_names():
    search = svc("search", host="search-q1w2", ports=[9200], health_path="/")
    ws = render_ws(search)
    assert parse_target("search", ws).raw == "http://search-q1w2:9200"  # type: ignore[union-attr]
    hp = parse_target("search-q1w2:9200", ws)
    assert hp is not None and hp.service == "search" and hp.origin == "arg"
    assert parse_target("nonsense value", ws) is None


def test_service_targets_give_the_scheme_a_client_needs():
    ws = render_ws()
    web = svc("web", "web", host="web-b8c9", ports=[3000, 3001])
    db = svc("db", "postgres", host="dpg-d0a1b2c3d4e5f6g7h8i9-a", user="app", database="app")
    kv = svc("kv", "keyvalue", host="red-c0d1e2f3g4h5i6j7k8l9")
    worker = svc("w", "worker")
    assert [t.raw for t in service_targets(ws, web)] == ["http://web-b8c9:3000", "web-b8c9:3001"]
    assert [t.subject for t in service_targets(ws, web)] == ["service:web", "service:web:3001"]
    assert service_targets(ws, db)[0].raw == "postgresql://app@dpg-d0a1b2c3d4e5f6g7h8i9-a:5432/app"
    assert service_targets(ws, kv)[0].raw == "redis://red-c0d1e2f3g4h5i6j7k8l9:6379"
    assert service_targets(ws, worker) == []
