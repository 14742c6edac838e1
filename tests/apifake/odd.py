"""Odd answers for the fuzz tests: any JSON the APIs could send, and a handler to swap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from pnet.errors import InputError, SourceError
from pnet.model import Platform, Workspace
from tests.apifake.server import Request, Response

ODD_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 70000),
        st.sampled_from(["", "x", "web_service", "private_service", "oregon", "free", "a:1"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "name",
                    "slug",
                    "type",
                    "serviceDetails",
                    "openPorts",
                    "port",
                    "plan",
                    "region",
                    "url",
                    "ipAllowList",
                    "cidrBlock",
                    "owner",
                    "ownerId",
                    "envVars",
                    "serviceLinks",
                    "key",
                    "value",
                    "readReplicas",
                    "numInstances",
                    "autoscaling",
                    "edges",
                    "node",
                    "domains",
                    "serviceDomains",
                    "targetPort",
                    "tags",
                    "source",
                    "image",
                    "serviceInstances",
                    "environments",
                    "services",
                    "serviceId",
                ]
            ),
            inner,
            max_size=6,
        ),
    ),
    max_leaves=25,
)


class Switch:
    """A handler the test swaps between examples."""

    def __init__(self) -> None:
        self.handler: Callable[[Request], Response] = lambda r: Response(404, {})

    def __call__(self, request: Request) -> Response:
        return self.handler(request)


def one_line(call: Callable[[], Workspace], platform: Platform) -> Any:
    """A workspace of `platform`, or one error line: never a traceback, never two lines."""
    try:
        ws = call()
    except (InputError, SourceError) as exc:
        assert "\n" not in str(exc)
        return exc
    assert ws.platform is platform
    return ws
