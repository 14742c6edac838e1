"""Values that carry a secret, in every form the masking policy names, and the secret itself.

`forms()` draws (value, secrets): a URL with a password (holding `/`, `@`, `:` as clients
allow), a token as a URL's user, a secret query parameter by name (any case, `-` or `_`) or
by shape, a webhook whose path is the secret, a credential by its shape, `user:pw@host` with
no scheme. `named()` draws (key, value, secrets) for a variable whose name says secret.
The hosts are the lab's (tests use render-healthy.yaml) or outside names.
"""

from __future__ import annotations

import string
from urllib.parse import quote

from hypothesis import strategies as st

ALNUM = string.ascii_letters + string.digits
LAB_HOSTS = (
    "dpg-h1i2j3k4l5m6n7o8p9q0-a",
    "dpg-h1i2j3k4l5m6n7o8p9q0-a:5432",
    "red-r1s2t3u4v5w6x7y8z9a0:6379",
    "api-h3k9:8080",
    "search-m2n3:9200",
)
OUTSIDE_HOSTS = ("db.example.com", "example.com:8443", "cache.example.net:6380")
SCHEMES = ("postgresql", "postgres", "redis", "rediss", "http", "https", "amqp", "mongodb")
SECRET_PARAMS = (
    "password",
    "sslpassword",
    "client_secret",
    "api-key",
    "api_key",
    "apikey",
    "auth",
    "private_token",
    "access_token",
    "token",
    "secret",
    "sig",
    "key",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "X-Goog-Signature",
    "AccountKey",
)
SECRET_NAMES = (
    "STRIPE_KEY",
    "OPENAI_KEY",
    "RAILS_MASTER_KEY",
    "DB_PASS",
    "DB_PASSWORD",
    "SESSION_JWT",
    "AUTH_HEADER",
    "AUTH_TOKEN",
    "GITHUB_TOKEN",
    "APP_SECRET",
    "SECRET_KEY_BASE",
    "JWT",
    "PGPASSWORD",
    "REDISCLI_AUTH",
    "MAILGUN_API_KEY",
    "SIGNING_SALT",
)


@st.composite
def token(draw: st.DrawFn, size: int = 12) -> str:
    """Letters and digits, at least `size` long, with both (so no word or number by chance)."""
    head = draw(st.text(alphabet=string.ascii_letters, min_size=size // 2, max_size=size))
    tail = draw(st.text(alphabet=ALNUM, min_size=size // 2, max_size=size))
    return f"{head}{draw(st.integers(10, 99))}{tail}"


@st.composite
def password(draw: st.DrawFn) -> str:
    """A password as people write them in URLs: with `/`, `@`, `:`, `+`, `=`, `!` unencoded."""
    core = draw(token())
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(1, len(core) - 1))
        core = core[:at] + draw(st.sampled_from("/@:+=!*~$")) + core[at:]
    return core


def _case(draw: st.DrawFn, name: str) -> str:
    style = draw(st.sampled_from(("same", "upper", "lower", "dash", "underscore")))
    if style == "upper":
        return name.upper()
    if style == "lower":
        return name.lower()
    if style == "dash":
        return name.replace("_", "-")
    if style == "underscore":
        return name.replace("-", "_")
    return name


SHAPES = (
    ("sk_live_", ALNUM, 24),
    ("rk_test_", ALNUM, 24),
    ("ghp_", ALNUM, 36),
    ("github_pat_", ALNUM + "_", 40),
    ("glpat-", ALNUM, 20),
    ("xoxb-", string.digits + "-", 24),
    ("AKIA", string.ascii_uppercase + string.digits, 16),
    ("AIza", ALNUM + "_-", 35),
    ("sk-proj-", ALNUM, 40),
    ("rnd_", ALNUM, 28),
)


@st.composite
def shaped(draw: st.DrawFn) -> str:
    """A credential known by its shape (Stripe, GitHub, GitLab, Slack, AWS, Google, a JWT)."""
    if draw(st.integers(0, 5)) == 0:
        parts = [draw(st.text(alphabet=ALNUM + "_-", min_size=8, max_size=30)) for _ in range(3)]
        return f"eyJ{parts[0]}.eyJ{parts[1]}.{parts[2]}"
    prefix, alphabet, size = draw(st.sampled_from(SHAPES))
    body = draw(st.text(alphabet=alphabet, min_size=size, max_size=size))
    body = body[:-2] + draw(st.sampled_from(("Q7", "z9", "K2")))
    if prefix == "AKIA":
        body = body[:-2] + "Q7"
    return prefix + body


@st.composite
def forms(draw: st.DrawFn, hosts: tuple[str, ...] = LAB_HOSTS) -> tuple[str, list[str]]:
    host = draw(st.sampled_from(hosts + OUTSIDE_HOSTS))
    kind = draw(st.integers(0, 8))
    if kind == 0:
        pw = draw(password())
        user = draw(st.sampled_from(("tidy", "default", "", "admin", "red-r1s2t3u4v5w6x7y8z9a0")))
        scheme = draw(st.sampled_from(SCHEMES))
        path = draw(st.sampled_from(("", "/tidy", "/0", "/x?sslmode=require")))
        return f"{scheme}://{user}:{pw}@{host}{path}", [pw]
    if kind == 1:
        secret = draw(shaped()) if draw(st.booleans()) else draw(token(32)).lower()
        where = draw(st.sampled_from(("github.com/o/r.git", "o12.ingest.sentry.io/34", host)))
        return f"https://{secret}@{where}", [secret]
    if kind == 2:
        secret = draw(token(8))
        name = _case(draw, draw(st.sampled_from(SECRET_PARAMS)))
        before = draw(st.sampled_from(("?", "?sslmode=require&", "?a=1&", "#")))
        after = draw(st.sampled_from(("", "&b=2", "#frag")))
        scheme = draw(st.sampled_from(SCHEMES))
        return f"{scheme}://{host}/p{before}{name}={secret}{after}", [secret]
    if kind == 3:
        mixed = st.text(alphabet=ALNUM, min_size=21, max_size=40).map(lambda t: t + "aZ7")
        secret = draw(st.one_of(mixed, st.text(alphabet="0123456789abcdef", min_size=40)))
        name = draw(st.sampled_from(("q", "state", "v", "data", "X-Amz-Date")))
        return f"https://{host}/?{name}={secret}&page=2", [secret]
    if kind == 4:
        secret = draw(token(24))
        hook = draw(
            st.sampled_from(
                (
                    "https://hooks.slack.com/services/T0A1B2C3/B4D5E6F7/{}",
                    "https://discord.com/api/webhooks/123456789012345678/{}",
                    "https://acme.webhook.office.com/webhookb2/a1@b2/IncomingWebhook/{}/c3",
                    "https://api.telegram.org/bot123456:{}/sendMessage",
                )
            )
        )
        return hook.format(secret), [secret]
    if kind == 5:
        secret = draw(shaped())
        how = draw(st.sampled_from(("https://{h}/?note={s}", "Bearer {s}", "{s}", "x={s}")))
        return how.format(h=host, s=secret), [secret]
    if kind == 6:
        pw = draw(password())
        return f"{draw(st.sampled_from(('u', 'tidy')))}:{pw}@{host}", [pw]
    if kind == 7:
        a, b = draw(password()), draw(password())
        return f"redis://x:{a}@{host},redis://y:{b}@{host}", [a, b]
    secret = draw(token(10))
    return f"Authorization: Bearer {secret}", [secret]


@st.composite
def named(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    """A variable whose name says its value is secret, with any value."""
    key = draw(st.sampled_from(SECRET_NAMES))
    value = draw(st.one_of(token(), password(), st.builds("Bearer {}".format, token())))
    return key, value, [value]


def leaked(secrets: list[str], text: str) -> list[str]:
    """The secrets (as written, or percent-encoded) that text contains."""
    out = []
    for secret in secrets:
        if len(secret) >= 6 and (secret in text or quote(secret, safe="") in text):
            out.append(secret)
    return out
