"""The command palette: namespaced commands (`probe: api`, `copy: Internal URL`, ...)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from pnet.tui.app import PnetApp

THEMES = ("ansi-dark", "ansi-light", "textual-dark", "textual-light")


class PnetCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = cast("PnetApp", self.app)
        ws = app.workspace
        out: list[tuple[str, Callable[[], object], str]] = [
            ("sweep", app.action_sweep, "probe every service of the workspace"),
            ("export", app.action_export, "write a Markdown and a JSON report here"),
            ("watch", app.action_watch, "re-probe the selected service every few seconds"),
            ("reveal", app.action_reveal, "show or hide secrets"),
        ]
        for svc in ws.services:
            out.append((f"probe: {svc.name}", partial(app.probe_service, svc.name), svc.type.label))
        for svc in ws.services:
            out.append(
                (f"show: {svc.name}", partial(app.select_service, svc.name), "select in the tree")
            )
        if app.current is not None:
            for tab, label in app.connect_fields():
                out.append(
                    (
                        f"copy: {label}",
                        partial(app.copy_field, tab, label),
                        f"{app.current.name} · {tab}",
                    )
                )
        src = app.source or app.current
        if src is not None:
            for svc in ws.services:
                if svc.name != src.name and svc.type.receives:
                    out.append(
                        (
                            f"check: {src.name} -> {svc.name}",
                            partial(app.open_path_check, src.name, svc.name, True),
                            "path check",
                        )
                    )
        for theme in THEMES:
            out.append((f"theme: {theme}", partial(app.set_theme, theme), "colours"))
        return out

    async def discover(self) -> Hits:
        for title, callback, help_text in self._commands():
            if title.startswith(("probe:", "check:", "show:")):
                continue
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
