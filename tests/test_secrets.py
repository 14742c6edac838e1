"""The masking policy (README, "Security"): what is masked, what is left alone, in linear time."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pnet.secrets import (
    MASK,
    dump_json,
    is_secret_key,
    is_secret_param,
    mask_json,
    mask_text,
    mask_value,
    one_line,
    secrets_in,
    utf8_safe,
)
from tests import secretforms
from tests.fuzzing import fuzz

MASKED = [
    # query parameters by name, whatever their case and separator
    ("postgres://u@dpg-abc-a/db?sslpassword=SSLPW123456", "SSLPW123456"),
    ("https://api/x?client_secret=CLIENTSEC123&a=1", "CLIENTSEC123"),
    ("https://api/x?api-key=APIKEY123", "APIKEY123"),
    ("https://api/x?API_KEY=APIKEY123", "APIKEY123"),
    ("https://api/x?auth=AUTH12345", "AUTH12345"),
    ("https://api/x?private_token=PRIVTOK123", "PRIVTOK123"),
    ("https://s3/x?X-Amz-Signature=AMZSIG12345&X-Amz-Date=1", "AMZSIG12345"),
    ("https://blob/x?sv=2022&sig=AZSIG123456", "AZSIG123456"),
    ("https://app/cb#access_token=FRAGTOK1234&state=1", "FRAGTOK1234"),
    ("Endpoint=sb://x;SharedAccessKey=AZKEY123456;EntityPath=q", "AZKEY123456"),
    # query parameters by shape
    (
        "https://api/x?state=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
        "9f86d081884c7d659a2feaa0c55ad015",
    ),
    ("https://api/x?data=Zx8r2Kq9Lm4Np7Qs1Tv3Wy6", "Zx8r2Kq9Lm4Np7Qs1Tv3Wy6"),
    # URL userinfo: passwords always, users that are tokens
    ("https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r.git", "ghp_abcdefghij"),
    ("https://abcdef0123456789abcdef0123456789@o1.ingest.sentry.io/1", "abcdef0123456789"),
    ("https://oauth2:glpat-abcdefghij0123456789@gitlab.com/x.git", "glpat-abcdefghij"),
    ("postgres://u:pa/ss@dpg-abc-a/db", "pa/ss"),
    ("postgres://u:a/b/c@dpg-abc-a:5432/db?sslmode=require", "a/b/c"),
    ("redis://default:p@ss@red-abc:6379", "p@ss"),
    ("redis://:only@pw@red-abc:6379", "only@pw"),
    ("mongodb://u:p@s:s/x@h1,h2/db", "p@s:s/x"),
    ("redis://a:pw1xyz@h1,redis://b:pw2xyz@h2", "pw2xyz"),
    ("user:pw12345@api-x7f2:8080", "pw12345"),
    ("DATABASE=tidy:pw12345@dpg-x-a/tidy", "pw12345"),
    # webhooks whose path is the secret
    ("https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX", "XXXXSECRETXXXX"),
    ("https://discord.com/api/webhooks/123456/abcDEFsecret_token", "abcDEFsecret_token"),
    ("https://x.webhook.office.com/webhookb2/aa@bb/IncomingWebhook/cc12/dd34", "cc12/dd34"),
    ("https://api.telegram.org/bot123456:ABCdef789/sendMessage", "123456:ABCdef789"),
    # shapes, wherever they are
    ("key sk_live_51Habcdefgh0123456789 here", "sk_live_51Habcdefgh"),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghij"),
    ("xoxb-123456789012-123456789012-abcdefghijkl", "xoxb-1234567890"),
    ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dGVzdHNpZw", "eyJhbGciOiJIUzI1NiJ9"),
    ("sk-proj-abcdefghij0123456789", "sk-proj-abcdefghij"),
    ("root:$6$saltsalt$Vx9Q2hashhashhash:19000:0:99999:7:::", "$6$saltsalt$Vx9Q2"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "MIIEow"),
    # assignments and headers that name a secret
    ("PGPASSWORD=s3cret99 psql -h x", "s3cret99"),
    ("STRIPE_KEY=whatever123 node app.js", "whatever123"),
    ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
    ("Authorization: token gho_abcdef123456", "gho_abcdef123456"),
    ("curl -H 'X-Api-Key: abcd1234'", "abcd1234"),
    ('{"password": "hunter22", "user": "x"}', "hunter22"),
    ("Bearer abcdefgh12", "abcdefgh12"),
]


@pytest.mark.parametrize(("text", "secret"), MASKED)
def test_masked(text: str, secret: str) -> None:
    shown = mask_text(text)
    assert secret not in shown
    assert MASK in shown


KEPT = [
    "https://api-x7f2:8080/x?email=a@b.com",
    "git@github.com:org/repo.git",
    "postgresql://acme:PASSWORD@dpg-x-a/acme",
    "postgresql://acme@dpg-x-a/acme?sslmode=require&application_name=web",
    "rediss://red-d0a1b2c3d4e5f6g7h8i9:PASSWORD@oregon-keyvalue.render.com:6379",
    "error auth-required: the server asks for credentials the URL does not carry",
    "PostgreSQL refused the password: password authentication failed",
    "srv-d0a1b2c3d4e5f6g7h8i9@ssh.oregon.render.com",
    "http://${{api.RAILWAY_PRIVATE_DOMAIN}}:${{api.PORT}}",
    "https://discord.com/api/users/@me",
    "127.1.1.5:9300: connection refused (nothing listens on that port)",
    "fix: SEARCH_URL=http://search-q1w2:9200",
    "Basic auth is off",
    "api → auth: AUTH_URL = https://auth-77aq.onrender.com",
    "PORT=10000 WEB_CONCURRENCY=2",
]


@pytest.mark.parametrize("text", KEPT)
def test_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_render_key_value_user_is_shown_its_password_is_not() -> None:
    text = "rediss://red-d0a1b2c3d4e5f6g7h8i9:Rq3mZ8tY1nB6@oregon-keyvalue.render.com:6379"
    assert mask_text(text) == (
        f"rediss://red-d0a1b2c3d4e5f6g7h8i9:{MASK}@oregon-keyvalue.render.com:6379"
    )


@pytest.mark.parametrize(
    "key",
    [
        "STRIPE_KEY",
        "OPENAI_KEY",
        "RAILS_MASTER_KEY",
        "DB_PASS",
        "SESSION_JWT",
        "AUTH_HEADER",
        "AUTHORIZATION",
        "GITHUB_TOKEN",
        "APP_SECRET",
        "SECRET_KEY_BASE",
        "SENTRY_DSN",
        "PGPASSWORD",
        "REDISCLI_AUTH",
        "signing-key",
    ],
)
def test_secret_names(key: str) -> None:
    assert is_secret_key(key)
    assert mask_value(key, "anything-at-all") == MASK


@pytest.mark.parametrize(
    "key",
    ["PORT", "DATABASE_URL", "AUTH_URL", "PWD", "AWS_ACCESS_KEY_ID", "DB_USER", "AUTHOR", "HOST"],
)
def test_names_that_say_nothing_secret(key: str) -> None:
    assert not is_secret_key(key)
    assert mask_value(key, "plain-value") == "plain-value"


@pytest.mark.parametrize(
    "name", ["sslpassword", "client_secret", "Api-Key", "AUTH", "private_token", "X-Amz-Signature"]
)
def test_secret_params(name: str) -> None:
    assert is_secret_param(name)


def test_a_secret_named_url_is_masked_as_a_url() -> None:
    dsn = "https://abcdef0123456789abcdef0123456789@o1.ingest.sentry.io/1"
    assert mask_value("SENTRY_DSN", dsn) == f"https://{MASK}@o1.ingest.sentry.io/1"
    assert secrets_in("SENTRY_DSN", dsn) == ["abcdef0123456789abcdef0123456789"]


@fuzz(400)
@given(secretforms.forms())
def test_no_form_shows_its_secret(form: tuple[str, list[str]]) -> None:
    value, secrets = form
    for shown in (mask_text(value), mask_value("SOME_URL", value) or "", one_line(value)):
        assert not secretforms.leaked(secrets, shown), (value, shown)
    found = secrets_in("SOME_URL", value)
    assert all(any(s in f for f in found) for s in secrets), (value, found)


@fuzz(200)
@given(secretforms.named())
def test_a_secret_name_masks_any_value(entry: tuple[str, str, list[str]]) -> None:
    key, value, secrets = entry
    assert mask_value(key, value) == MASK
    assert secrets_in(key, value) == secrets


@fuzz(300)
@given(st.one_of(st.text(), secretforms.forms().map(lambda f: f[0])))
def test_masking_twice_changes_nothing_more(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once


@fuzz(100)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_json_is_always_valid_and_masked(value: object) -> None:
    text = dump_json(value)
    text.encode("utf-8")
    assert json.loads(text) == json.loads(dump_json(mask_json(value)))


def test_undecodable_bytes_are_escaped() -> None:
    assert utf8_safe("caf\udce9") == "caf\\xe9"
    assert '"caf\\\\xe9"' in dump_json({"v": "caf\udce9"})
    assert dump_json({"n": float("nan"), "big": 10**40}) == (
        '{\n  "n": null,\n  "big": "a number of 133 bits"\n}'
    )


# ---- linear time ------------------------------------------------------------------------

ADVERSARIAL = {
    "userinfo": lambda n: "a:" + "@/" * (n // 2),
    "schemes": lambda n: "x://u:p@" * (n // 8),
    "params": lambda n: "?a=" * (n // 3),
    "assignments": lambda n: "A_KEY=x," * (n // 8),
    "shapes": lambda n: "-eyJaaaa" * (n // 8),
    "headers": lambda n: "X-Key: " * (n // 7),
    "ats": lambda n: "a@" * (n // 2),
    "plain": lambda n: "a" * n,
    "mixed": lambda n: "https://u:p@h/x?token=abc&a=b user:pw@host sk_live_abcdefgh " * (n // 60),
}


def _seconds(text: str) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        mask_text(text)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_masking_is_linear(name: str) -> None:
    """8 times the text takes about 8 times as long (a quadratic scan would take 64 times)."""
    make = ADVERSARIAL[name]
    small, large = _seconds(make(50_000)), _seconds(make(400_000))
    assert large < 3.0, f"{large:.2f} s for 400 KB"
    assert large < 24 * small + 0.05, f"{small:.4f} s -> {large:.4f} s"
