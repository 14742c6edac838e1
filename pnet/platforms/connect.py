"""The Connect tabs a platform's dashboard shows, as values: what each adapter builds.

Secrets are masked unless `reveal` is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pnet.model import Service
from pnet.secrets import MASK, mask_text

PASSWORD_PLACEHOLDER = "PASSWORD"


@dataclass(frozen=True)
class ConnectField:
    label: str
    value: str
    copyable: bool = True
    secret: bool = False


@dataclass(frozen=True)
class ConnectTab:
    name: str
    fields: list[ConnectField] = field(default_factory=list)
    note: str = ""

    def field(self, label: str) -> ConnectField | None:
        for f in self.fields:
            if f.label == label:
                return f
        return None


def all_fields(tabs: list[ConnectTab]) -> list[tuple[str, ConnectField]]:
    return [(tab.name, f) for tab in tabs for f in tab.fields]


def secret_field(label: str, value: str, reveal: bool) -> ConnectField:
    masked = mask_text(value)
    return ConnectField(label, value if reveal else masked, copyable=True, secret=masked != value)


def password_field(service: Service, reveal: bool) -> ConnectField:
    if service.password is None:
        return ConnectField("Password", "shown in the dashboard", copyable=False)
    return ConnectField("Password", service.password if reveal else MASK, secret=True)


def password_or_placeholder(service: Service) -> str:
    return service.password if service.password is not None else PASSWORD_PLACEHOLDER


def not_receiving_note(service: Service) -> str:
    why = service.type.why_not_receiving or f"a {service.type.label} has no internal address"
    text = f"{why}."
    if service.type.instead:
        text += f" To receive private traffic, {service.type.instead}."
    return text[0].upper() + text[1:]
