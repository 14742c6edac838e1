"""The workspace tree: regions (Railway: environments) -> services, each with two marks: its
health (what probing it found) and its variables (where they point), then its name, type and
internal address."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from pnet import platforms
from pnet.model import Service, Workspace
from pnet.tui.status import TYPE_MARKS, Status, address, receive_mark

ADDRESS_WIDTH = 20
GUIDES = 4
MARKS = 4


def ellipsis(text: str, room: int) -> str:
    """`text` in `room` columns, cut with `…` when longer."""
    return text if len(text) <= room else text[: max(0, room - 1)] + "…"


def squeeze(addr: str, room: int) -> str:
    """Shorten `host:port` to `room` columns by cutting the host, never the port."""
    if len(addr) <= room:
        return addr
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        return addr[: room - 1] + "…"
    keep = room - len(port) - 2
    if keep < 3:
        return addr[: room - 1] + "…"
    return f"{host[:keep]}…:{port}"


class ServiceTree(Tree[Service | None]):
    """Services grouped by the private network they belong to."""

    @dataclass
    class Chosen(Message):
        """The highlighted service changed."""

        tree: ServiceTree
        service: Service

        @property
        def control(self) -> ServiceTree:
            return self.tree

    @dataclass
    class Emptied(Message):
        """The filter hides every service: nothing is selected."""

        tree: ServiceTree
        filter_text: str

        @property
        def control(self) -> ServiceTree:
            return self.tree

    def __init__(self, workspace: Workspace, *, id: str | None = None) -> None:
        title = workspace.project or workspace.name
        super().__init__(f"{title} ({workspace.platform})", id=id)
        self.workspace = workspace
        self.statuses: dict[str, Status] = {}
        self.reach: dict[str, Status] = {}
        self.filter_text = ""
        self.compact = False
        self.show_root = False
        self.guide_depth = 2
        self._by_name: dict[str, TreeNode[Service | None]] = {}
        self.address_width = ADDRESS_WIDTH

    def on_mount(self) -> None:
        self.rebuild()

    def matches(self, service: Service) -> bool:
        text = self.filter_text.strip().lower()
        if not text:
            return True
        status = self.statuses.get(service.name, Status.UNKNOWN)
        reach = self.reach.get(service.name)
        hay = [
            service.name,
            service.kind.value,
            TYPE_MARKS[service.kind],
            service.type.label,
            str(status),
            str(reach or ""),
            service.host or "",
            service.location or "",
        ]
        words = text.split()
        return all(any(w in h.lower() for h in hay) for w in words)

    def rebuild(self) -> None:
        selected = self.cursor_node.data if self.cursor_node is not None else None
        self.clear()
        self._by_name.clear()
        group_word = platforms.of(self.workspace).scope_word
        for group, services in self.workspace.groups():
            shown = [s for s in services if self.matches(s)]
            if not shown:
                continue
            label = Text(group, style="bold")
            count = str(len(services))
            if len(shown) != len(services):
                count = f"{len(shown)} of {count}"
            if self.compact:
                label.append(f" ({count})", style="dim")
            elif group == "global":
                label.append(" · no region, not on a private network", style="dim")
            else:
                noun = "service" if len(services) == 1 else "services"
                label.append(f" · {group_word}, {count} {noun}", style="dim")
            branch = self.root.add(label, data=None, expand=True)
            for svc in shown:
                node = branch.add_leaf(self.label_for(svc), data=svc)
                self._by_name[svc.name] = node
        if not self._by_name:
            shown_filter = ellipsis(self.filter_text.strip(), 20)
            self.root.add_leaf(
                Text.assemble((f"no match for “{shown_filter}”", "bold"), (" (esc clears)", "dim")),
                data=None,
            )
            self.post_message(self.Emptied(self, self.filter_text))
            return
        want = selected.name if selected is not None else None
        self._restore(want)
        self.call_after_refresh(self._settle, want)

    def _settle(self, name: str | None) -> None:
        node = self.cursor_node
        if node is None or node.data is None:
            self._restore(name)

    def _restore(self, name: str | None) -> None:
        if name is not None and name in self._by_name:
            self.move_cursor(self._by_name[name])
        elif self._by_name:
            self.move_cursor(next(iter(self._by_name.values())))

    def label_for(self, svc: Service) -> Text:
        status = self.statuses.get(svc.name, Status.UNKNOWN)
        reach = self.reach.get(svc.name)
        health = (status.mark, status.style)
        if status is Status.UNKNOWN and not svc.type.receives:
            health = (" ", "")
        width = self._name_width()
        text = Text.assemble(
            health,
            " ",
            (reach.mark, reach.style) if reach is not None else " ",
            " ",
            (ellipsis(svc.name, width).ljust(width), "bold" if svc.type.receives else ""),
            " ",
            (TYPE_MARKS[svc.kind].ljust(7), "cyan"),
            (receive_mark(svc), "green" if svc.type.receives else "dim"),
        )
        if not self.compact:
            addr = self._short(address(svc)) or "no internal address"
            addr = squeeze(addr, self.address_width)
            text.append(" ")
            text.append(addr, "" if svc.type.receives else "dim italic")
        return text

    def _short(self, addr: str) -> str:
        """Private names without the suffix every one of them shares (`.railway.internal`)."""
        suffix = platforms.of(self.workspace).shared_suffix
        if suffix:
            host, sep, port = addr.partition(":")
            if host.endswith(suffix):
                return host[: -len(suffix)] + sep + port
        return addr

    _longest: tuple[int, int] | None = None

    def _name_width(self) -> int:
        services = self.workspace.services
        if self._longest is None or self._longest[0] != id(services):
            self._longest = (id(services), max((len(s.name) for s in services), default=8))
        return min(self._longest[1], 12 if self.compact else 15)

    def preferred_width(self) -> int:
        """Columns the tree needs to show every label whole (guides, marks, address)."""
        longest = max(
            len(self._short(address(s)) or "no internal address") for s in self.workspace.services
        )
        return GUIDES + MARKS + self._name_width() + 1 + 7 + 2 + longest

    def fit(self, columns: int) -> None:
        """Truncate addresses to what `columns` leaves them."""
        room = max(8, columns - (GUIDES + MARKS + self._name_width() + 1 + 7 + 2))
        if room != self.address_width:
            self.address_width = room
            for name, node in self._by_name.items():
                svc = self.workspace.service(name)
                if svc is not None:
                    node.set_label(self.label_for(svc))

    def set_marks(self, name: str, status: Status, reach: Status | None) -> None:
        """The service's health and its variables' marks (None: it reads no variable)."""
        if self.statuses.get(name) is status and self.reach.get(name) is reach:
            return
        self.statuses[name] = status
        if reach is None:
            self.reach.pop(name, None)
        else:
            self.reach[name] = reach
        node = self._by_name.get(name)
        svc = self.workspace.service(name)
        if node is not None and svc is not None:
            node.set_label(self.label_for(svc))

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self.rebuild()

    def set_compact(self, compact: bool) -> None:
        if compact != self.compact:
            self.compact = compact
            self.rebuild()

    def select_service(self, name: str) -> bool:
        node = self._by_name.get(name)
        if node is None:
            return False
        self.move_cursor(node)
        return True

    @property
    def visible_services(self) -> list[Service]:
        return [n.data for n in self._by_name.values() if n.data is not None]

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[Service | None]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Chosen(self, event.node.data))
