"""Static rules, one by one, on small hand-made workspaces; and the fixes that must work."""

from __future__ import annotations

from pnet.diagnose import KINDS, diagnose
from pnet.diagnose.finding import Severity
from pnet.diagnose.kinds import severity
from pnet.targets import targets_from_env
from tests.test_diagnose_kit import check, kinds, railway_ws, render_ws, rw, svc


def _api(env, **kw):
    return svc("api", "web", host="api-x7f2", ports=[8080], env=env, **kw)


def test_severities_are_the_contract():
    assert severity("wrong-url") is Severity.WARNING
    assert severity("cross-region") is Severity.ERROR
    assert len(KINDS) == 24
    assert severity("handshake-error") is Severity.ERROR


def test_a_healthy_workspace_gives_no_finding():
    ws = render_ws(
        _api(
            {
                "DATABASE_URL": "postgresql://u:pw123456@dpg-d0a1b2c3d4e5f6g7h8i9-a/app",
                "REDIS_URL": "redis://red-c0d1e2f3g4h5i6j7k8l9:6379",
                "SEARCH_URL": "http://search-q1w2:9200",
                "STRIPE_URL": "https://api.stripe.com/v1",
            }
        ),
        svc("search", host="search-q1w2", ports=[9200]),
        svc("db", "postgres", host="dpg-d0a1b2c3d4e5f6g7h8i9-a", ip_allow_list=()),
        svc("kv", "keyvalue", host="red-c0d1e2f3g4h5i6j7k8l9", ip_allow_list=()),
    )
    assert check(ws, "api") == []


def test_wrong_port_names_the_right_one():
    ws = render_ws(
        _api({"S": "http://search-q1w2:9300"}), svc("search", host="search-q1w2", ports=[9200])
    )
    [f] = check(ws, "api")
    assert (f.kind, f.subject, f.service) == ("wrong-port", "S", "search")
    assert "S=http://search-q1w2:9200" in f.fix


def test_a_port_implied_by_the_scheme_is_checked_too():
    ws = render_ws(
        _api({"S": "http://search-q1w2"}), svc("search", host="search-q1w2", ports=[9200])
    )
    [f] = check(ws, "api")
    assert f.kind == "wrong-port" and "means 80" in f.message


def test_port_10000_is_trusted_from_the_open_ports():
    ok = render_ws(
        _api({"S": "http://search-q1w2:10000"}), svc("search", host="search-q1w2", ports=[10000])
    )
    assert check(ok, "api") == []
    bad = render_ws(
        _api({"S": "http://search-q1w2:10000"}), svc("search", host="search-q1w2", ports=[9200])
    )
    [f] = check(bad, "api")
    assert f.kind == "wrong-port"
    assert any("10000" in e for e in f.evidence)


def test_reserved_port_on_a_url_and_on_the_service():
    ws = render_ws(
        _api({"M": "http://metrics-h6j7:18012"}), svc("metrics", host="metrics-h6j7", ports=[18012])
    )
    found = check(ws, "api")
    assert kinds(found) == [("reserved-port", "M")]
    assert found[0].severity is Severity.ERROR


def test_too_many_ports_and_public_database_are_service_findings():
    gw = svc("gateway", host="gateway-t6y7", ports=list(range(8000, 8076)))
    db = svc("db", "postgres", host="dpg-d0a1b2c3d4e5f6g7h8i9-a", ip_allow_list=("0.0.0.0/0",))
    ws = render_ws(
        _api(
            {
                "G": "http://gateway-t6y7:8000",
                "D": "postgresql://u:pw123456@dpg-d0a1b2c3d4e5f6g7h8i9-a/x",
            }
        ),
        gw,
        db,
    )
    assert sorted(kinds(check(ws, "api"))) == [
        ("public-database", "service:db"),
        ("too-many-ports", "service:gateway"),
    ]
    exactly = render_ws(
        _api({"G": "http://gateway-t6y7:8000"}),
        svc("gateway", host="gateway-t6y7", ports=list(range(8000, 8075))),
    )
    assert check(exactly, "api") == []


def test_cross_region_wins_over_unknown_host_and_its_fix_works():
    bill = svc("billing", region="frankfurt", host="billing-m3n4")
    [f] = check(render_ws(_api({"B": "http://billing-m3n4:8000"}), bill), "api")
    assert f.kind == "cross-region"
    assert "no public URL" in f.fix and "cannot be changed" in f.fix


def test_cross_region_database_fix_says_an_empty_allow_list_refuses_everyone():
    db = svc(
        "eu-db",
        "postgres",
        region="frankfurt",
        host="dpg-e9f8g7h6i5j4k3l2m1n0-a",
        user="billing",
        database="billing",
        ip_allow_list=(),
    )
    [f] = check(
        render_ws(
            _api({"D": "postgresql://billing:pw123456@dpg-e9f8g7h6i5j4k3l2m1n0-a/billing"}), db
        ),
        "api",
    )
    assert f.kind == "cross-region"
    assert "dpg-e9f8g7h6i5j4k3l2m1n0-a.frankfurt-postgres.render.com" in f.fix
    assert "allow list is empty" in f.fix and "refuses every caller" in f.fix
    assert "pw123456" not in f.fix + f.message + "".join(f.evidence)


def test_cross_region_web_service_fix_is_its_public_url():
    w = svc(
        "auth", "web", region="ohio", host="auth-77aq", public_url="https://auth-77aq.onrender.com"
    )
    [f] = check(render_ws(_api({"A": "http://auth-77aq:8000/v1"}), w), "api")
    assert f.kind == "cross-region" and "A=https://auth-77aq.onrender.com/v1" in f.fix


def test_a_public_url_to_another_region_is_right():
    w = svc(
        "auth", "web", region="ohio", host="auth-77aq", public_url="https://auth-77aq.onrender.com"
    )
    assert check(render_ws(_api({"A": "https://auth-77aq.onrender.com"}), w), "api") == []


def test_wrong_url_gives_the_internal_url_and_the_blueprint_snippet():
    w = svc(
        "auth", "web", host="auth-77aq", ports=[8000], public_url="https://auth-77aq.onrender.com"
    )
    [f] = check(render_ws(_api({"A": "https://auth-77aq.onrender.com/login"}), w), "api")
    assert f.kind == "wrong-url" and f.severity is Severity.WARNING
    assert "A=http://auth-77aq:8000/login" in f.fix
    assert "fromService: {name: auth, type: web, property: hostport}" in f.fix


def test_wrong_url_for_an_external_database_url():
    db = svc("db", "postgres", host="dpg-d0a1b2c3d4e5f6g7h8i9-a", user="app", database="app")
    url = "postgresql://app:pw123456@dpg-d0a1b2c3d4e5f6g7h8i9-a.oregon-postgres.render.com:5432/app"
    [f] = check(render_ws(_api({"DATABASE_URL": url}), db), "api")
    assert f.kind == "wrong-url"
    assert "postgresql://app:PASSWORD@dpg-d0a1b2c3d4e5f6g7h8i9-a/app" in f.fix
    assert "fromDatabase: {name: db, property: connectionString}" in f.fix


def test_public_url_of_a_free_web_service_is_right_and_its_internal_address_is_not():
    free = svc(
        "preview",
        "web",
        plan="free",
        host="preview-n5m6",
        public_url="https://preview-n5m6.onrender.com",
    )
    assert check(render_ws(_api({"P": "https://preview-n5m6.onrender.com"}), free), "api") == []
    [f] = check(render_ws(_api({"P": "http://preview-n5m6:10000"}), free), "api")
    assert f.kind == "not-receiving"
    assert "https://preview-n5m6.onrender.com" in f.fix


def test_a_worker_has_no_address_so_not_receiving_not_unknown_host():
    [f] = check(render_ws(_api({"M": "http://mailer-j8k9:8000"}), svc("mailer", "worker")), "api")
    assert (f.kind, f.service) == ("not-receiving", "mailer")
    assert "type: pserv" in f.fix


def test_missing_scheme_only_for_url_variables():
    images = svc("images", host="images-p0o9", ports=[7000])
    found = check(
        render_ws(
            _api({"IMAGES_URL": "images-p0o9:7000", "IMAGES_ADDR": "images-p0o9:7000"}), images
        ),
        "api",
    )
    assert kinds(found) == [("missing-scheme", "IMAGES_URL")]
    assert "IMAGES_URL=http://images-p0o9:7000" in found[0].fix


def test_tls_on_private_gives_the_plain_url_with_the_right_port():
    graph = svc("graph", host="graph-z5x6", ports=[4000])
    [f] = check(render_ws(_api({"G": "https://graph-z5x6/api"}), graph), "api")
    assert f.kind == "tls-on-private"
    assert "G=http://graph-z5x6:4000/api" in f.fix


def test_wrong_protocol_from_the_type_suggests_the_key_value_store():
    db = svc("db", "postgres", host="dpg-d0a1b2c3d4e5f6g7h8i9-a")
    kv = svc("kv", "keyvalue", host="red-c0d1e2f3g4h5i6j7k8l9")
    [f] = check(render_ws(_api({"R": "redis://dpg-d0a1b2c3d4e5f6g7h8i9-a:5432"}), db, kv), "api")
    assert f.kind == "wrong-protocol"
    assert "R=redis://red-c0d1e2f3g4h5i6j7k8l9:6379" in f.fix


def test_unknown_host_suggests_the_closest_known_host():
    recs = svc("recs", host="recs-a1b2", ports=[5000])
    [f] = check(render_ws(_api({"R": "http://recs-a1b3:5000"}), recs), "api")
    assert f.kind == "unknown-host" and "recs-a1b2" in f.fix
    assert "R=http://recs-a1b2:5000" in f.fix


def test_a_bare_service_name_is_not_a_render_hostname():
    search = svc("search", host="search-q1w2", ports=[9200])
    [f] = check(render_ws(_api({"S": "http://search:9200"}), search), "api")
    assert f.kind == "unknown-host" and "S=http://search-q1w2:9200" in f.fix


def test_client_side_private_url():
    api = _api({}, public_url="https://api-x7f2.onrender.com")
    web = svc(
        "web",
        "web",
        host="web-b8c9",
        env={
            "NEXT_PUBLIC_API_URL": "http://api-x7f2:8080",
            "VITE_X": "https://api-x7f2.onrender.com",
        },
    )
    [f] = check(render_ws(api, web), "web")
    assert (f.kind, f.subject) == ("client-side-private-url", "NEXT_PUBLIC_API_URL")
    assert "NEXT_PUBLIC_API_URL=https://api-x7f2.onrender.com" in f.fix
    for prefix in ("REACT_APP_", "NUXT_PUBLIC_", "EXPO_PUBLIC_", "GATSBY_", "PUBLIC_"):
        web2 = svc("web", "web", host="web-b8c9", env={f"{prefix}API": "http://api-x7f2:8080"})
        assert kinds(check(render_ws(api, web2), "web")) == [
            ("client-side-private-url", f"{prefix}API")
        ]


# ---- Railway ------------------------------------------------------------------------------


def test_cross_environment_and_its_fix():
    api = rw("api", "web", env={"S": "http://search.railway.internal:7700"})
    search = rw("search", environment="staging", ports=[7700])
    [f] = check(railway_ws(api, search), "api")
    assert f.kind == "cross-environment"
    assert "${{search.RAILWAY_PRIVATE_DOMAIN}}" in f.fix


def test_railway_wrong_url_gives_the_reference_variable_and_the_port_note():
    api = rw("api", "web", env={"C": "https://catalog-production.up.railway.app"})
    cat = rw("catalog", "web", ports=[8000], public_url="https://catalog-production.up.railway.app")
    [f] = check(railway_ws(api, cat), "api")
    assert f.kind == "wrong-url"
    assert "C=http://catalog.railway.internal:8000" in f.fix
    assert "http://${{catalog.RAILWAY_PRIVATE_DOMAIN}}:${{catalog.PORT}}" in f.fix
    assert "catalog.PORT must be set on catalog" in f.fix


def test_build_phase_when_the_build_migrates_a_private_database():
    env = {"DATABASE_URL": "postgresql://postgres:pw123456@postgres.railway.internal:5432/railway"}
    pg = rw("postgres", "postgres")
    for cmd in (
        "npm run build && npx prisma migrate deploy",
        "python manage.py migrate && python manage.py collectstatic",
        "bundle exec rails db:migrate",
        "npx knex migrate:latest",
        "alembic upgrade head",
    ):
        api = rw("api", "web", env=env, build_command=cmd)
        [f] = check(railway_ws(api, pg, legacy=()), "api")
        assert (f.kind, f.subject) == ("build-phase", "DATABASE_URL"), cmd
        assert "pre-deploy" in f.fix
    quiet = rw("api", "web", env=env, build_command="npm ci && npm run build")
    assert check(railway_ws(quiet, pg, legacy=()), "api") == []
    public = rw(
        "api",
        "web",
        env={"DATABASE_URL": "postgresql://postgres:pw123456@shuttle.proxy.rlwy.net:15140/railway"},
        build_command="npx prisma migrate deploy",
    )
    assert "build-phase" not in [f.kind for f in check(railway_ws(public, pg, legacy=()), "api")]


def test_ipv6_only_name_for_redis_in_a_legacy_environment():
    api = rw(
        "api", "web", env={"REDIS_URL": "redis://default:pw123456@redis.railway.internal:6379"}
    )
    redis = rw("redis", "keyvalue")
    [f] = check(railway_ws(api, redis), "api")
    assert f.kind == "ipv6-only-name"
    assert "REDIS_URL=redis://default:PASSWORD@redis.railway.internal:6379?family=0" in f.fix
    assert "5.8.2" in f.fix
    assert check(railway_ws(api, redis, legacy=()), "api") == []
    fixed = rw("api", "web", env={"REDIS_URL": "redis://redis.railway.internal:6379?family=0"})
    assert check(railway_ws(fixed, redis), "api") == []
    python = rw(
        "api", "web", runtime="python", env={"REDIS_URL": "redis://redis.railway.internal:6379"}
    )
    assert check(railway_ws(python, redis), "api") == []


def test_from_nowhere_a_public_url_is_right():
    auth = svc("auth", "web", host="auth-77aq", public_url="https://auth-77aq.onrender.com")
    assert check(render_ws(auth), None, targets=["https://auth-77aq.onrender.com"]) == []


def test_a_railway_port_reference_that_was_never_set():
    from pnet.model import EnvVar

    api = rw("api", ports=[3000])
    web = rw("web", "web")
    web = web.__class__(
        **{
            **web.__dict__,
            "env": (
                EnvVar(
                    "API_URL",
                    None,
                    origin="reference",
                    resolved=False,
                    ref_service="api",
                    ref_key="PORT",
                ),
                EnvVar(
                    "GONE_URL",
                    None,
                    origin="reference",
                    resolved=False,
                    ref_service="apii",
                    ref_key="RAILWAY_PRIVATE_DOMAIN",
                ),
            ),
        }
    )
    found = check(railway_ws(api, web, legacy=()), "web")
    assert kinds(found) == [("wrong-port", "API_URL"), ("unknown-host", "GONE_URL")]
    assert "set PORT=3000 on api" in found[0].fix
    assert "${{api.RAILWAY_PRIVATE_DOMAIN}}" in found[1].fix


def test_an_isolated_render_environment_blocks_private_traffic():
    import dataclasses

    from pnet.model import EnvironmentInfo

    api = svc("api", "web", env={"R": "http://rates-r4t5:7070"}, environment="shop/staging")
    rates = svc("rates", host="rates-r4t5", ports=[7070], environment="shop/production")
    ws = dataclasses.replace(
        render_ws(api, rates),
        environments={
            "shop/production": EnvironmentInfo("shop/production", isolated=True),
            "shop/staging": EnvironmentInfo("shop/staging"),
        },
    )
    [f] = check(ws, "api")
    assert (f.kind, f.service) == ("cross-environment", "rates")
    assert "isolation: disabled" in f.fix
    open_ws = dataclasses.replace(
        ws, environments={"shop/production": EnvironmentInfo("shop/production")}
    )
    assert check(open_ws, "api") == []


def test_did_you_mean_stays_bounded_on_thousands_of_unknown_names(monkeypatch):
    from pnet.diagnose import closest

    calls = 0
    real = closest.levenshtein  # type: ignore[attr-defined]

    def counted(a, b, bound=None):
        nonlocal calls
        calls += 1
        return real(a, b, bound)

    monkeypatch.setattr(closest, "levenshtein", counted)
    n = 3000
    services = [
        svc(f"s{i}", host=f"s{i}-a1b2", ports=[80], env={"U": f"http://t{i}-a1b2:80"})
        for i in range(n)
    ]
    ws = render_ws(*services)
    targets = [t for s in ws.services for t in targets_from_env(ws, s, qualify=True)]
    found = diagnose(ws, None, targets)
    assert calls <= closest.MAX_SPENT + closest.MAX_CANDIDATES
    assert any(f.kind == "unknown-host" for f in found)
