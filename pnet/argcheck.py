"""Checks of what is given on the command line: ports, nameservers, targets, API keys.

Each returns the checked value or raises `BadArgument` with a line that says what was
expected; the front ends turn it into their usage error (exit 2).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from pnet.errors import quote

MAX_PORT = 65535


def digits(text: str) -> bool:
    """Whether text is a whole number `int()` reads at once: ASCII digits, at most 18 (`²`
    and `٣` are digits to `str.isdigit`, and `int()` refuses 4,300 of them)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


class BadArgument(ValueError):
    """An argument that is not what its option expects: one line, exit 2."""


def port_problem(text: str) -> str | None:
    """Why `text` is not a port (1 to 65535), or None."""
    if not digits(text) or len(text) > 5:
        return f"a port is a number from 1 to {MAX_PORT}, not {quote(text)}"
    if not 1 <= int(text) <= MAX_PORT:
        return f"a port is a number from 1 to {MAX_PORT}, not {int(text)}"
    return None


def _split_hostport(text: str) -> tuple[str, str | None]:
    """(host, port text or None) of `host:port`, `[v6]:port`, `[v6]`, `host` or a bare IPv6."""
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise BadArgument(f"{quote(text)} opens `[` and does not close it: `[v6]:PORT`")
        rest = text[close + 1 :]
        if rest and not rest.startswith(":"):
            raise BadArgument(f"{quote(text)}: after `[v6]` comes `:PORT` or nothing")
        return text[1:close], rest[1:] if rest else None
    if "]" in text:
        raise BadArgument(f"{quote(text)} closes a `]` it did not open")
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, port
    return text, None


def nameserver(text: str, *, default_port: int | None = 53) -> tuple[str, int]:
    """`IP:PORT`, `[v6]:PORT` (or a bare IP, for `default_port`): the address DNS goes to."""
    text = text.strip()
    host, port_text = _split_hostport(text)
    if port_text is None:
        if default_port is None:
            raise BadArgument(f"expected IP:PORT, not {quote(text)}")
        port = default_port
    else:
        problem = port_problem(port_text)
        if problem:
            raise BadArgument(problem)
        port = int(port_text)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise BadArgument(
            f"{quote(host)} is not an IP address (a nameserver is given as IP:PORT, "
            "e.g. 127.0.0.1:5353 or [::1]:53)"
        ) from None
    return str(address), port


def target(text: str) -> str:
    """A TARGET as given: an explicit port must be a port (`host:0`, `[::1]:99999` are not)."""
    stripped = text.strip()
    rest = stripped
    scheme_end = stripped.find("://")
    if scheme_end >= 0:
        rest = stripped[scheme_end + 3 :]
        for stop in "/?#":
            cut = rest.find(stop)
            if cut >= 0:
                rest = rest[:cut]
        rest = rest.rpartition("@")[2]
        if not rest:
            return text
    elif "/" in rest:
        rest = rest[: rest.find("/")]
    if rest.count(":") > 1 and not rest.startswith("["):
        return text
    _host, port_text = _split_hostport(rest)
    if port_text is not None and (port_text or scheme_end < 0):
        problem = port_problem(port_text)
        if problem:
            raise BadArgument(f"{quote(stripped)}: {problem}")
    return text


API_KEY_VARIABLES = {
    "render": ("RENDER_API_KEY",),
    "railway": ("RAILWAY_API_TOKEN", "RAILWAY_TOKEN"),
}


def platform_key(api: str | None, environ: Mapping[str, str]) -> None:
    """The key an API source (`render`, `railway:PROJECT`) will send, checked before it is."""
    for name in API_KEY_VARIABLES.get((api or "").partition(":")[0], ()):
        if environ.get(name):
            api_key(name, environ[name])
            return


def api_key(name: str, value: str) -> str:
    """A platform API key as an HTTP header can carry it: printable ASCII, no spaces."""
    if not value.strip():
        raise BadArgument(f"{name} is empty")
    if not (value.isascii() and value.isprintable()) or any(c.isspace() for c in value.strip()):
        raise BadArgument(
            f"{name} holds a character an API key cannot have (a space, a control character "
            "or a non-ASCII letter): check how it was copied"
        )
    return value.strip()
