"""What an API read found, kept on disk for a few minutes so the next start is instant.

One file per account and workspace under `$XDG_CACHE_HOME/pnet/api/` (`~/.cache/pnet/api/`),
named by a hash of the platform, the key and the workspace asked for: the key itself is never
written. Nor is any secret: a value that is a secret (a password in a URL, a token, a key) is
kept only masked, and a workspace read back from the cache has no value for it (the variable
says why, and a refresh reads it), so nothing is ever checked against a masked password.
Datastore passwords are dropped. A file that is missing, stale, unreadable or of another
version is simply not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from pnet import platforms
from pnet.model import EnvironmentInfo, EnvVar, Kind, Network, Platform, Service, Workspace
from pnet.secrets import mask_text, mask_value

FORMAT = 1
TTL = 600.0
MAX_BYTES = 16 * 1024 * 1024
NOT_KEPT = (
    "holds a secret, which the cache does not keep: refresh (R in the app, --refresh) to read it"
)

_SERVICE_SKIP = {"type", "env", "lab", "password", "line", "platform"}
_TUPLES = {"ports", "ip_allow_list"}


@dataclass(frozen=True)
class Cached:
    workspace: Workspace
    read_at: float
    """Wall-clock time (epoch seconds) of the API read the cache holds."""
    secrets_left_out: int


def folder(environ: Mapping[str, str]) -> Path | None:
    """Where the cache lives, or None when the environment names no home for it."""
    base = environ.get("XDG_CACHE_HOME", "").strip()
    if base:
        return Path(base) / "pnet" / "api"
    home = environ.get("HOME", "").strip()
    if home:
        return Path(home) / ".cache" / "pnet" / "api"
    return None


def entry(
    platform: Platform, key: str, scope: str | None, environ: Mapping[str, str]
) -> Path | None:
    """The file of one account (by a hash of its key) and one workspace or project."""
    base = folder(environ)
    if base is None:
        return None
    digest = hashlib.sha256(f"pnet-cache\0{platform}\0{key}\0{scope or ''}".encode()).hexdigest()
    return base / f"{platform}-{digest[:24]}.json"


def load(path: Path | None, *, ttl: float = TTL, now: float | None = None) -> Cached | None:
    """The workspace a fresh cache file holds, or None."""
    if path is None:
        return None
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        read_at = float(data["read_at"])
        age = (time.time() if now is None else now) - read_at
        if not 0 <= age <= ttl:
            return None
        workspace, left_out = _workspace(data["workspace"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return Cached(workspace, read_at, left_out)


def save(path: Path | None, workspace: Workspace, *, now: float | None = None) -> float:
    """Keep `workspace` (its secrets masked) in `path`; the time of the read, kept or not."""
    read_at = time.time() if now is None else now
    if path is None:
        return read_at
    data = {"format": FORMAT, "read_at": read_at, "workspace": _workspace_json(workspace)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, separators=(",", ":"))
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass
    return read_at


def drop(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


# ---- the model as JSON, secrets masked -----------------------------------------------------


def _env_json(var: EnvVar) -> dict[str, Any]:
    out: dict[str, Any] = {f.name: getattr(var, f.name) for f in fields(EnvVar)}
    masked = mask_value(var.key, var.value)
    if masked != var.value:
        out["value"] = None
        out["masked"] = masked
    out["note"] = mask_value("note", var.note) if var.note else var.note
    return out


def _service_json(svc: Service) -> dict[str, Any]:
    out: dict[str, Any] = {
        f.name: getattr(svc, f.name) for f in fields(Service) if f.name not in _SERVICE_SKIP
    }
    for name in _TUPLES:
        value = out.get(name)
        out[name] = list(value) if value is not None else None
    for name in ("start_command", "build_command"):
        if out.get(name):
            out[name] = mask_text(out[name])
    out["kind"] = svc.kind.value
    out["env"] = [_env_json(v) for v in svc.env]
    return out


def _workspace_json(ws: Workspace) -> dict[str, Any]:
    return {
        "name": ws.name,
        "platform": ws.platform.value,
        "project": ws.project,
        "source": ws.source,
        "notes": [mask_text(n) for n in ws.notes],
        "environments": {
            name: {
                "network": info.network.value if info.network else None,
                "isolated": info.isolated,
            }
            for name, info in ws.environments.items()
        },
        "services": [_service_json(s) for s in ws.services],
    }


def _env(data: Mapping[str, Any]) -> tuple[EnvVar, bool]:
    known = {f.name for f in fields(EnvVar)}
    args = {k: v for k, v in data.items() if k in known}
    var = EnvVar(**args)
    masked = data.get("masked")
    if not isinstance(masked, str):
        return var, False
    note = f"{masked}: {NOT_KEPT}" if masked else NOT_KEPT
    return replace(var, value=None, note=note), True


def _service(data: Mapping[str, Any], platform: Platform) -> tuple[Service, int]:
    known = {f.name for f in fields(Service)} - _SERVICE_SKIP
    args: dict[str, Any] = {k: v for k, v in data.items() if k in known}
    for name in _TUPLES:
        if isinstance(args.get(name), list):
            args[name] = tuple(args[name])
    kind = Kind(data["kind"])
    plan = args.get("plan")
    env = [_env(v) for v in data.get("env") or []]
    svc = Service(
        type=platforms.service_type(platform, kind, plan if isinstance(plan, str) else None),
        platform=platform,
        env=tuple(v for v, _ in env),
        **args,
    )
    return svc, sum(1 for _, left in env if left)


def _workspace(data: Mapping[str, Any]) -> tuple[Workspace, int]:
    platform = Platform(data["platform"])
    services = [_service(s, platform) for s in data["services"]]
    left_out = sum(n for _, n in services)
    notes = [str(n) for n in data.get("notes") or []]
    return (
        Workspace(
            name=str(data["name"]),
            platform=platform,
            services=tuple(s for s, _ in services),
            project=data.get("project"),
            environments={
                str(name): EnvironmentInfo(
                    str(name),
                    Network(info["network"]) if info.get("network") else None,
                    bool(info.get("isolated")),
                )
                for name, info in (data.get("environments") or {}).items()
            },
            source=str(data.get("source") or ""),
            notes=tuple(notes),
        ),
        left_out,
    )


__all__ = ["NOT_KEPT", "TTL", "Cached", "drop", "entry", "folder", "load", "save"]
