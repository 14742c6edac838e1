"""Masking of secrets: passwords in URLs, tokens and keys in env vars, in every output."""

from __future__ import annotations

import re

MASK = "••••••"

_URL_USERINFO = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<pw>[^@/\s]+)@"
)
_QUERY_SECRET = re.compile(
    r"(?P<k>[?&](?:password|passwd|pwd|token|access_token|api_key|apikey|key|secret|sig|signature)=)"
    r"(?P<v>[^&#\s]+)",
    re.IGNORECASE,
)
_ENV_ASSIGN = re.compile(r"\b(?P<k>PGPASSWORD|REDISCLI_AUTH|PASSWORD)=(?P<v>\S+)")
_SECRET_KEY = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|ACCESS_KEY|CREDENTIALS?|AUTH_KEY|"
    r"SIGNING_KEY|ENCRYPTION_KEY|_PWD$|^PWD_|SALT|COOKIE_KEY|SESSION_KEY|DSN_PASSWORD)",
    re.IGNORECASE,
)
_NOT_SECRET_KEY = re.compile(r"(_URL|_HOST|_PORT|_USER|_NAME|_ID|_PATH|_FILE)$", re.IGNORECASE)


def mask_text(text: str) -> str:
    """Mask the credentials in free text: URL passwords, secret query params, PGPASSWORD=."""
    if not text:
        return text
    out = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    out = _QUERY_SECRET.sub(lambda m: f"{m['k']}{MASK}", out)
    out = _ENV_ASSIGN.sub(lambda m: f"{m['k']}={MASK}", out)
    return out


def is_secret_key(key: str) -> bool:
    """Whether an env var's name says its whole value is a secret (`STRIPE_SECRET_KEY`)."""
    return bool(_SECRET_KEY.search(key)) and not _NOT_SECRET_KEY.search(key)


def mask_value(key: str, value: str | None) -> str | None:
    """An env var's value as it may be shown: whole value masked for secret keys, URLs masked."""
    if value is None:
        return None
    if value and is_secret_key(key) and "://" not in value:
        return MASK
    return mask_text(value)


def secrets_in(key: str, value: str | None) -> list[str]:
    """The secret substrings of a value (for tests that prove none reaches an output)."""
    if not value:
        return []
    if is_secret_key(key) and "://" not in value:
        return [value] if len(value) >= 4 else []
    found = [m["pw"] for m in _URL_USERINFO.finditer(value)]
    found += [m["v"] for m in _QUERY_SECRET.finditer(value)]
    return [s for s in found if len(s) >= 4]
