"""An app that remembers the widgets it asks for: a sweep lands thousands of results, each
shown through the same few widgets, and each `query_one` walks the whole DOM."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast, overload

from textual.app import App
from textual.css.query import QueryType
from textual.widget import Widget


class Remembering(App[int]):
    def __init__(self) -> None:
        super().__init__()
        self._found: dict[tuple[Any, Any], Any] = {}

    def _views_up(self) -> bool:
        """The main screen's widgets are there (a run can land while the app closes)."""
        if not self.screen_stack:
            return False
        detail = self._found.get(("#env-detail", None))
        if detail is None:
            found = self.screen_stack[0].query("#env-detail")
            if not found:
                return False
            detail = self._found[("#env-detail", None)] = found.first()
        return detail.is_attached

    if TYPE_CHECKING:

        @overload
        def query_one(self, selector: str) -> Widget: ...

        @overload
        def query_one(self, selector: type[QueryType]) -> QueryType: ...

        @overload
        def query_one(self, selector: str, expect_type: type[QueryType]) -> QueryType: ...

    def query_one(
        self,
        selector: str | type[QueryType],
        expect_type: type[QueryType] | None = None,
    ) -> QueryType | Widget:
        """`query_one`, remembering what it found while that widget stays in the DOM: the
        app asks for the same few widgets on every result a sweep lands, and each query walks
        the whole DOM."""
        key = (selector, expect_type)
        hit = self._found.get(key)
        if hit is not None and hit.is_attached and hit.screen is self.screen:
            return cast("QueryType | Widget", hit)
        found: QueryType | Widget
        if expect_type is not None and isinstance(selector, str):
            found = super().query_one(selector, expect_type)
        elif isinstance(selector, str):
            found = super().query_one(selector)
        else:
            found = super().query_one(selector)
        self._found[key] = found
        return found
