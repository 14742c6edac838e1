"""API keys: from the environment or a file, never from a command line, never shown.

`RENDER_API_KEY` is a Render API key; `RAILWAY_API_TOKEN` a Railway account or workspace
token, `RAILWAY_TOKEN` a project token. A key file holds the key on its first line (a pipe
such as `<(pass show render)` works too). Nothing here imports the HTTP client.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pnet.errors import InputError
from pnet.model import Platform

MAX_KEY_FILE = 4096

RENDER_KEY_HELP = (
    "set RENDER_API_KEY or give --render-api-key-file FILE (Account Settings → API Keys)"
)
RAILWAY_KEY_HELP = (
    "set RAILWAY_API_TOKEN (account or workspace token), RAILWAY_TOKEN (project token) "
    "or give --railway-token-file FILE"
)


@dataclass(frozen=True)
class ApiChoice:
    """Which API: `render`, `render:WORKSPACE`, `railway`, `railway:PROJECT_ID`."""

    platform: Platform
    scope: str | None = None


def parse_choice(text: str) -> ApiChoice:
    name, _, scope = text.partition(":")
    try:
        platform = Platform(name.strip().lower())
    except ValueError:
        raise InputError(
            f"unknown API {name!r}: expected render, render:WORKSPACE, railway or "
            "railway:PROJECT_ID"
        ) from None
    return ApiChoice(platform, scope.strip() or None)


@dataclass(frozen=True)
class Key:
    """A key and where it came from (`RENDER_API_KEY`, `file PATH`): never shown itself.

    `kind` is `render` for a Render API key; for Railway `account`, `project` or, from a file,
    `unknown` (tried as an account token, then as a project token).
    """

    platform: Platform
    value: str
    kind: str
    origin: str

    def __repr__(self) -> str:
        return f"Key({self.platform}, {self.kind}, from {self.origin})"


def read_key_file(path: str | Path, what: str) -> str:
    """The key in a file: its first line, stripped; one clear line when it cannot be used."""
    where = str(path)
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"is a folder: {what} wants a file holding the key", where)
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_KEY_FILE:
            raise InputError(
                f"{info.st_size} bytes: too big for a key (at most {MAX_KEY_FILE})", where
            )
        with open(path, "rb") as fh:
            raw = fh.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise InputError(f"cannot read it: {exc.strerror or exc}", where) from None
    if len(raw) > MAX_KEY_FILE:
        raise InputError(f"too big for a key (at most {MAX_KEY_FILE} bytes)", where)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not text: a key file holds the key on its first line", where) from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputError(f"empty: {what} wants a file holding the key", where)
    key = lines[0]
    if any(c.isspace() for c in key) or not key.isprintable():
        raise InputError(
            "the first line is not a key (it holds spaces or control characters)", where
        )
    return key


def find_key(
    platform: Platform, environ: Mapping[str, str], key_file: str | Path | None = None
) -> Key | None:
    """The key for `platform`: from `key_file` when given, else from the environment."""
    if platform is Platform.RENDER:
        if key_file is not None:
            value = read_key_file(key_file, "--render-api-key-file")
            return Key(platform, value, "render", f"file {key_file}")
        value = environ.get("RENDER_API_KEY", "").strip()
        return Key(platform, value, "render", "RENDER_API_KEY") if value else None
    if key_file is not None:
        value = read_key_file(key_file, "--railway-token-file")
        return Key(platform, value, "unknown", f"file {key_file}")
    account = environ.get("RAILWAY_API_TOKEN", "").strip()
    if account:
        return Key(platform, account, "account", "RAILWAY_API_TOKEN")
    project = environ.get("RAILWAY_TOKEN", "").strip()
    if project:
        return Key(platform, project, "project", "RAILWAY_TOKEN")
    return None


def need_key(platform: Platform) -> InputError:
    if platform is Platform.RENDER:
        return InputError(f"the Render API needs a key: {RENDER_KEY_HELP}")
    return InputError(f"the Railway API needs a token: {RAILWAY_KEY_HELP}")


GONE_FLAGS = {
    "--render-api-key": "set RENDER_API_KEY or give --render-api-key-file FILE",
    "--railway-token": "set RAILWAY_API_TOKEN or RAILWAY_TOKEN, or give --railway-token-file FILE",
}


def gone_flag(flag: str) -> str:
    """Why a key given on the command line is refused, and what to use instead."""
    return (
        f"{flag} no longer takes a key: a key on the command line stays in the shell's history "
        f"and shows in `ps`; {GONE_FLAGS[flag]}"
    )


__all__ = [
    "GONE_FLAGS",
    "ApiChoice",
    "Key",
    "find_key",
    "gone_flag",
    "need_key",
    "parse_choice",
    "read_key_file",
]
