"""What pnet may show: every secret masked, in time linear in the text.

One function, `mask_text`, decides for free text; `mask_value` adds a variable's name to it,
`mask_json` applies it to every string of a JSON value. The policy (README, "Security"):

- URL credentials: the password of `scheme://user:password@host` always, and the user too when
  it looks like a token (`https://ghp_…@github.com`, a Sentry DSN's key). Clients differ on a
  password with an unencoded `@` or `/` (redis-py and Node's URL end it at the last `@` of the
  authority, libpq at the first, SQLAlchemy reads past a `/`): the mask covers the longest of
  these readings. `user:password@host` with no scheme too.
- Query and fragment parameters whose names say secret (`password`, `sslpassword`,
  `client_secret`, `api-key`, `auth`, `private_token`, `X-Amz-Signature`, `sig`, ...: case and
  `-`/`_` do not matter), and any parameter whose value looks random (a signature, a key).
- Paths that carry a secret: Slack, Discord, Microsoft Teams, Telegram and Zapier webhooks.
- `NAME=value` and `Header-Name: value` where NAME says secret (`*_KEY`, `*_SECRET`, `*_TOKEN`,
  `*PASS*`, `*JWT*`, `AUTH*`, `*_DSN`, ...), `Bearer …` / `Basic …`.
- Values with a credential's shape wherever they are: Stripe `sk_live_`, GitHub `ghp_`,
  GitLab `glpat-`, Slack `xoxb-`, AWS `AKIA…`, Google `AIza…`, OpenAI `sk-…`, Render `rnd_…`,
  JWTs, crypt(3) hashes, PEM private key blocks.

Every pattern here reads each character a bounded number of times (none can backtrack from
every position over the rest of the text), and the scans are `find` loops: masking is linear in
the text, whatever the text holds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

MASK = "••••••"
ASCII_MASK = "******"
PLACEHOLDERS = frozenset({"PASSWORD", MASK, ASCII_MASK, "", "REDACTED", "<password>"})
"""Stand-ins that are no secret: a fix's `user:PASSWORD@` stays as written."""
_LONGEST_PLACEHOLDER = max(len(p) for p in PLACEHOLDERS)

# Secret names ------------------------------------------------------------------------------

_SECRET_WORDS = ("PASS", "SECRET", "TOKEN", "JWT", "CREDENTIAL", "SIGNATURE", "PRIVATE_KEY")
_SECRET_EXACT = frozenset({"KEY", "SIG", "AUTH", "SALT", "HMAC", "OTP", "COOKIE"})
_SECRET_SUFFIXES = ("KEY", "_SIG", "_DSN", "_PWD", "_SALT", "_HMAC", "_COOKIE", "_AUTH")
_NOT_SECRET_SUFFIXES = (
    "_URL",
    "_URI",
    "_URLS",
    "_HOST",
    "_HOSTNAME",
    "_PORT",
    "_USER",
    "_USERNAME",
    "_NAME",
    "_ID",
    "_PATH",
    "_FILE",
    "_DIR",
    "_ENDPOINT",
    "_ADDR",
    "_ADDRESS",
    "_DOMAIN",
    "_REGION",
    "_VERSION",
    "_TTL",
    "_EXPIRY",
    "_EXPIRES",
    "_LENGTH",
    "_TYPE",
    "_MODE",
)
_NOT_SECRET_EXACT = frozenset({"PWD", "OLDPWD", "PASSENGER_APP_ENV", "AUTHOR", "AUTHORS"})
_QUERY_ONLY = frozenset({"PWD", "CODE", "PASS", "PW"})


def _norm(name: str) -> str:
    return name.strip().lstrip("-").upper().replace("-", "_").replace(".", "_")


def _secret_name(n: str) -> bool:
    if not n or n in _NOT_SECRET_EXACT or n.endswith(_NOT_SECRET_SUFFIXES):
        return False
    if n in _SECRET_EXACT or n.endswith(_SECRET_SUFFIXES) or n.startswith(("AUTH", "PWD_")):
        return not (n == "AUTHOR" or n.startswith(("AUTHOR_", "AUTHORS", "AUTHORITY")))
    return any(word in n for word in _SECRET_WORDS)


@lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether a variable's name says its whole value is a secret (`STRIPE_KEY`, `DB_PASS`)."""
    return _secret_name(_norm(key))


@lru_cache(maxsize=4096)
def is_secret_param(name: str) -> bool:
    """Whether a query parameter's name says its value is a secret (`api-key`, `sig`)."""
    n = _norm(name)
    return n in _QUERY_ONLY or _secret_name(n)


# Shapes ------------------------------------------------------------------------------------

_LONGEST_RANDOM = 4096
_PLATFORM_ID = re.compile(r"(?:srv|crn|dpg|red|usr|tea|evm|exs|prj|lb)-[a-z0-9]{20}(?:-[a-z]+)?")
_TOKENISH = re.compile(r"[A-Za-z0-9+/=_.~%-]+")
_HEX = re.compile(r"[0-9a-fA-F]+")


def looks_random(value: str) -> bool:
    """Whether a value looks like a key, a signature or a token rather than a word or an id."""
    n = len(value)
    if n < 16 or n > _LONGEST_RANDOM or not _TOKENISH.fullmatch(value):
        return False
    if value in PLACEHOLDERS or _PLATFORM_ID.fullmatch(value):
        return False
    if n >= 32 and _HEX.fullmatch(value):
        return True
    digits = sum(c.isdigit() for c in value)
    upper = sum(c.isupper() for c in value)
    lower = sum(c.islower() for c in value)
    if not digits or not (upper or lower):
        return False
    if n >= 20 and upper and lower:
        return True
    return n >= 32 and digits * 8 >= n


_USER_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,}")


def _token_user(user: str) -> bool:
    """A URL's user that is a token rather than a name: long, with letters and digits."""
    return (
        bool(_USER_TOKEN.fullmatch(user))
        and any(c.isdigit() for c in user)
        and any(c.isalpha() for c in user)
        and not _PLATFORM_ID.fullmatch(user)
    )


# Each shape starts with a literal (found first with `in`, so a text without it costs
# nothing) and ends in a greedy run of its own characters; the look-behind refuses a start
# inside such a run, so no character is scanned by two failing attempts.
_SHAPE_LIST = (
    (("_live_", "_test_"), r"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}"),
    (("whsec_",), r"(?<![A-Za-z0-9_])whsec_[A-Za-z0-9]{8,}"),
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{16,}"),
    (("github_pat_",), r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{16,}"),
    (("glpat-",), r"(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{16,}"),
    (("xox",), r"(?<![A-Za-z0-9_-])xox[abposr]-[A-Za-z0-9-]{8,}"),
    (("xapp-",), r"(?<![A-Za-z0-9_-])xapp-[A-Za-z0-9-]{8,}"),
    (
        ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"),
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])",
    ),
    (("AIza",), r"(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{30,}"),
    (("sk-",), r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{16,}"),
    (("rnd_",), r"(?<![A-Za-z0-9_])rnd_[A-Za-z0-9]{16,}"),
    (
        ("npm_", "hf_", "dop_v1_", "shpat_", "shpss_"),
        r"(?<![A-Za-z0-9_])(?:npm|hf|dop_v1|shpat|shpss)_[A-Za-z0-9_]{16,}",
    ),
    (("pypi-",), r"(?<![A-Za-z0-9_-])pypi-[A-Za-z0-9_-]{16,}"),
    (("SG.",), r"(?<![A-Za-z0-9_.-])SG\.[A-Za-z0-9_.-]{32,}"),
    (("eyJ",), r"(?<![A-Za-z0-9_.-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    (("$",), r"(?<![A-Za-z0-9$./=,])\$(?:1|2[abxy]?|5|6|7|y|gy|sha1|md5)\$[A-Za-z0-9$./=,]{8,}"),
)
_SHAPES = tuple((hints, re.compile(pattern)) for hints, pattern in _SHAPE_LIST)
# Any hint of any shape: most text has none, and one search over it settles that.
_ANY_HINT = re.compile("|".join(re.escape(h) for hints, _ in _SHAPE_LIST for h in hints))


def _shapes(text: str) -> Iterator[re.Match[str]]:
    if _ANY_HINT.search(text) is None:
        return
    for hints, pattern in _SHAPES:
        for h in hints:
            if h in text:
                yield from pattern.finditer(text)
                break


def has_credential_shape(text: str) -> bool:
    """Whether the whole text is a credential by its shape (`ghp_…`, `sk_live_…`, a JWT)."""
    return any(pattern.fullmatch(text) for _, pattern in _SHAPES)


_PEM_BEGIN = "-----BEGIN "
_PEM_END = "-----END "
_PEM_BODY = re.compile(r"[A-Za-z0-9+/=\s\\]*")
"""A key's body with no END line: base64, line ends (or `\\n` as JSON writes them)."""

# Webhooks whose path is the secret: (host or host suffix, path prefix, segments kept after it).
_SECRET_PATHS = (
    ("hooks.slack.com", "/services/", 2),
    ("hooks.slack.com", "/workflows/", 1),
    ("hooks.slack.com", "/triggers/", 1),
    ("discord.com", "/api/webhooks/", 1),
    ("discordapp.com", "/api/webhooks/", 1),
    (".discord.com", "/api/webhooks/", 1),
    (".webhook.office.com", "/webhookb2/", 0),
    ("outlook.office.com", "/webhook/", 0),
    ("api.telegram.org", "/bot", 0),
    ("hooks.zapier.com", "/hooks/catch/", 1),
)

_SEP = r"\s\x00-\x1f\x7f"
_TOKEN = re.compile(rf"[^{_SEP}]+")
_AT_TOKEN = re.compile(rf"(?<![^{_SEP}])[^{_SEP}]*@[^{_SEP}]*")
_PARAM = re.compile(r"[?&;#]([A-Za-z0-9_.\-\[\]]{1,64})=")
_ASSIGN = re.compile(r"(?<![A-Za-z0-9_.\-:/@?&;#=])(-{0,2}[A-Za-z_][A-Za-z0-9_.\-]{0,63})=")
_PARAM_VALUE_END = re.compile(rf"[&#;\"'<>`{_SEP}]")
_ASSIGN_VALUE_END = re.compile(rf"[\"'<>`{_SEP}]")
_AUTH_WORD = re.compile(rf"(?<![A-Za-z0-9_-])(?i:bearer|basic)[ \t]+([^{_SEP}\"',;]{{6,}})")
_HEADER = re.compile(
    rf"(?<![^{_SEP}\"'{{(,])([\"']?)([A-Za-z][A-Za-z0-9_-]{{0,63}})\1:[ \t]+"
    rf"(?:(?i:bearer|basic|token|digest)[ \t]+)?[\"']?([^{_SEP}\"']+)"
)
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_HOST_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789[_")


def _end_of(pattern: re.Pattern[str], text: str, start: int) -> int:
    m = pattern.search(text, start)
    return m.start() if m else len(text)


def _first(text: str, chars: str, start: int, end: int) -> int:
    """The index of the first of `chars` in text[start:end], or `end`."""
    best = end
    for c in chars:
        i = text.find(c, start, best)
        if i >= 0:
            best = i
    return best


class _Spans:
    """The stretches of a text to mask, collected by the scans below."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans: list[tuple[int, int]] = []

    def add(self, start: int, end: int) -> None:
        if end - start > _LONGEST_PLACEHOLDER or (
            end > start and self.text[start:end] not in PLACEHOLDERS
        ):
            self.spans.append((start, end))

    def merged(self) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for start, end in sorted(self.spans):
            if out and start <= out[-1][1]:
                if end > out[-1][1]:
                    out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
        return out


def _userinfo(spans: _Spans, start: int, end: int, *, scheme: bool) -> int:
    """Mask the credentials of the authority in text[start:end]; return where the host starts.

    With a scheme, the userinfo ends at the last `@` before the first `/`, `?` or `#` (as
    Python, redis-py and Node's URL read it) or, for `user:password@`, at a later `@` when the
    password would hold a `/` (as SQLAlchemy reads it) but not a `/` and then a `?`, which is a
    path and a query. With no scheme only `user:password@host` counts (not `name@example.com`).
    """
    text = spans.text
    std_end = _first(text, "/?#", start, end)
    colon = text.find(":", start, end)
    slash = text.find("/", start, end)
    query = _first(text, "?#", start, end)
    user_ok = 0 <= colon < _first(text, "/?#@", start, end)
    at = -1
    i = text.find("@", start, end)
    while i >= 0:
        standard = scheme and i < std_end
        lenient = (
            user_ok
            and colon < i
            and i + 1 < end
            and text[i + 1] in _HOST_START
            and not (0 <= slash < i and query < i)
        )
        if standard or lenient:
            at = i
        i = text.find("@", i + 1, end)
    if at < 0:
        return start
    if 0 <= colon < at and (user_ok or colon < std_end):
        spans.add(colon + 1, at)
        user_end = colon
    elif scheme:
        user_end = at
    else:
        return start
    user = text[start:user_end] if user_end - start <= _LONGEST_RANDOM else ""
    if looks_random(user) or has_credential_shape(user) or _token_user(user):
        spans.add(start, user_end)
    return at + 1


def _secret_path(spans: _Spans, host_start: int, end: int) -> None:
    text = spans.text
    host_end = _first(text, "/?#", host_start, end)
    host = text[host_start:host_end].lower()
    if "]" not in host:
        host = host.rsplit(":", 1)[0]
    path_end = _first(text, "?#\"'<>`\\", host_end, end)
    for suffix, prefix, keep in _SECRET_PATHS:
        if not (host == suffix or (suffix.startswith(".") and host.endswith(suffix))):
            continue
        where = text[host_end:path_end].lower().find(prefix)
        if where < 0:
            continue
        cut = host_end + where + len(prefix)
        for _ in range(keep):
            nxt = text.find("/", cut, path_end)
            cut = path_end if nxt < 0 else nxt + 1
        spans.add(cut, text.find("/", cut, path_end) if prefix == "/bot" else path_end)
        return


def _urls(spans: _Spans) -> None:
    """Every `scheme://` URL: its credentials, and the secret in a webhook's path."""
    text = spans.text
    token_end = 0
    sep = text.find("://")
    while sep >= 0:
        if sep >= token_end:
            m = _TOKEN.match(text, sep)
            token_end = m.end() if m else sep
        nxt = text.find("://", sep + 3)
        url_end = token_end
        if 0 <= nxt < token_end:
            url_end = _scheme_start(text, nxt, sep + 3)
        host = _userinfo(spans, sep + 3, url_end, scheme=True)
        _secret_path(spans, host, url_end)
        sep = nxt


def _scheme_start(text: str, sep: int, limit: int) -> int:
    """Where the scheme before `://` at `sep` starts (a scheme is short: 32 characters at most)."""
    s = sep
    floor = max(limit, sep - 32)
    while s > floor and text[s - 1] in _SCHEME_CHARS:
        s -= 1
    return s


def _params(spans: _Spans) -> None:
    """`?name=value` in queries and fragments, and `NAME=value` assignments."""
    text = spans.text
    value_end = 0
    for m in _PARAM.finditer(text):
        value_start = m.end()
        if value_start >= value_end:
            value_end = _end_of(_PARAM_VALUE_END, text, value_start)
        if is_secret_param(m[1]) or (
            value_end - value_start <= _LONGEST_RANDOM and looks_random(text[value_start:value_end])
        ):
            spans.add(value_start, value_end)
    masked_until = 0
    for m in _ASSIGN.finditer(text):
        if m.start() < masked_until or not is_secret_key(m[1]):
            continue
        value_start = m.end()
        value_end = _end_of(_ASSIGN_VALUE_END, text, value_start)
        if text.find("://", value_start, value_end) < 0:
            spans.add(value_start, value_end)
            masked_until = value_end


def _headers(spans: _Spans) -> None:
    """`Bearer …`, `Basic …`, `Authorization: …` and `X-Api-Key: …` (a secret name)."""
    for m in _AUTH_WORD.finditer(spans.text):
        spans.add(m.start(1), m.end(1))
    for m in _HEADER.finditer(spans.text):
        name = m[2]
        if name.lower() == "authorization" or (
            (m[1] or _is_header(name))
            and is_secret_key(name)
            and not _norm(name).startswith("AUTH")
        ):
            spans.add(m.start(3), m.end(3))


def _pem(spans: _Spans) -> None:
    text = spans.text
    begin = text.find(_PEM_BEGIN)
    while begin >= 0:
        head_end = text.find("-----", begin + len(_PEM_BEGIN))
        if head_end < 0:
            return
        body = head_end + 5
        stop = text.find(_PEM_END, body)
        if "PRIVATE KEY" in text[begin:head_end]:
            if stop < 0:
                m = _PEM_BODY.match(text, body)
                stop = m.end() if m else body
            spans.add(body, stop)
        if stop < 0:
            return
        begin = text.find(_PEM_BEGIN, stop)


def _scan(text: str) -> list[tuple[int, int]]:
    spans = _Spans(text)
    for m in _shapes(text):
        spans.add(m.start(), m.end())
    if _PEM_BEGIN in text:
        _pem(spans)
    if "://" in text:
        _urls(spans)
    if "@" in text and ":" in text:
        for m in _AT_TOKEN.finditer(text):
            if text.find("://", m.start(), m.end()) < 0:
                _userinfo(spans, m.start(), m.end(), scheme=False)
    if "=" in text:
        _params(spans)
    if ":" in text or " " in text:
        _headers(spans)
    return spans.merged()


def _is_header(name: str) -> bool:
    return ("-" in name or "_" in name) and name.replace("-", "").replace("_", "").isalnum()


def _apply(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(MASK)
        last = end
    out.append(text[last:])
    return "".join(out)


def mask_text(text: str) -> str:
    """The text with every secret replaced by MASK (see the module's policy)."""
    if not text:
        return text
    return _masked(text)


@lru_cache(maxsize=16384)
def _masked(text: str) -> str:
    """mask_text, remembered: the same value reaches several outputs."""
    return _apply(text, _scan(text))


def mask_value(key: str, value: str | None) -> str | None:
    """A variable's value as it may be shown: all of it when its name says secret (unless it is
    a URL, whose credentials are masked as in any text), else what `mask_text` masks."""
    if value is None:
        return None
    if value and is_secret_key(key) and "://" not in value and value not in PLACEHOLDERS:
        return MASK
    return mask_text(value)


def secrets_in(key: str, value: str | None) -> list[str]:
    """The secret substrings of a variable's value (what no output may contain)."""
    if not value:
        return []
    if is_secret_key(key) and "://" not in value:
        return [value] if len(value) >= 4 and value not in PLACEHOLDERS else []
    found = [value[s:e] for s, e in _scan(value)]
    return [s for s in found if len(s) >= 4]


# Output ------------------------------------------------------------------------------------

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escape_surrogate(m: re.Match[str]) -> str:
    code = ord(m[0])
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def utf8_safe(text: str) -> str:
    """The text with what cannot be written as UTF-8 escaped: a byte that was not UTF-8 (read
    with `surrogateescape`, as the environment is) becomes `\\xNN`."""
    return _SURROGATE.sub(_escape_surrogate, text) if _SURROGATE.search(text) else text


def shown(text: str, limit: int | None = None) -> str:
    """Text as any output may carry it: masked, valid UTF-8, and at most `limit` characters."""
    out = utf8_safe(mask_text(text))
    if limit is not None and len(out) > limit:
        out = out[: max(0, limit - 1)] + "…"
    return out


def one_line(text: str, limit: int = 2000) -> str:
    """An error or progress line: masked, control characters escaped, one line, bounded."""
    text = " ".join(text.split())
    text = _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", shown(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


_BIG = 10**18


_JSON_TEXT: dict[str, str] = {}
_JSON_TEXT_MAX = 65536


def _json_text(text: str) -> str:
    """A string as JSON carries it: masked and valid UTF-8, remembered (a report repeats its
    keys and values thousands of times)."""
    out = _JSON_TEXT.get(text)
    if out is None:
        if len(_JSON_TEXT) >= _JSON_TEXT_MAX:
            _JSON_TEXT.clear()
        out = _JSON_TEXT[text] = utf8_safe(mask_text(text))
    return out


def mask_json(value: Any) -> Any:
    """A JSON value with every string (keys too) masked and valid UTF-8, every number finite."""
    kind = type(value)
    if kind is str:
        return _json_text(value)
    if kind is dict:
        out = {}
        for k, v in value.items():
            key = _json_text(k) if type(k) is str else mask_json(str(k))
            t = type(v)
            if t is str:
                out[key] = _json_text(v)
            elif t is bool or v is None or (t is int and -_BIG < v < _BIG):
                out[key] = v
            else:
                out[key] = mask_json(v)
        return out
    if kind is list or kind is tuple:
        return [mask_json(v) for v in value]
    if isinstance(value, str):
        return _json_text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value if -_BIG < value < _BIG else f"a number of {value.bit_length()} bits"
    if isinstance(value, Mapping):
        return {mask_json(str(k)): mask_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_json(v) for v in value]
    return _json_text(str(value))


def dump_json(value: Any, *, unicode: bool = True, indent: int | None = 2) -> str:
    """JSON text that carries no secret and is valid UTF-8 (ASCII when `unicode` is False)."""
    return json.dumps(mask_json(value), indent=indent, ensure_ascii=not unicode, allow_nan=False)
