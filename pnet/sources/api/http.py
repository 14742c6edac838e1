"""The HTTP side of the platform APIs: one client per read, paced under the platform's limits.

Every request goes through `ApiClient.send`: a bound on requests in flight, a sliding window
where the platform gives no budget, and the budget the API itself announces
(`Ratelimit-Remaining` / `Ratelimit-Reset` on Render, `X-RateLimit-*` on Railway) where it does.
A 429, a 5xx or a network failure is retried with exponential backoff and jitter, waiting at
least what `Retry-After` asks; the attempts per request and the waiting of a whole read are
bounded. A key the API refuses (401, 403) or a name it does not know (404) is an `InputError`
(exit 2); an API that cannot be read after the retries is a `SourceError` (exit 3). No message
ever holds the key: requests are named by method and path only.

Proxies and CA bundles are httpx's own: `HTTPS_PROXY`, `NO_PROXY`, `SSL_CERT_FILE`,
`SSL_CERT_DIR` from the process environment.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from pnet import __version__
from pnet.errors import InputError, SourceError

USER_AGENT = f"pnet/{__version__}"
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
NETWORK_ATTEMPTS = 3
T = TypeVar("T")


@dataclass(frozen=True)
class Pace:
    """How fast one platform's API may be read.

    `concurrency` requests at once; at most `per_window` requests in any `window` seconds while
    the API announces no budget of its own (always, with `always`: Railway's per-second limit
    has no header).
    """

    concurrency: int
    per_window: int
    window: float
    always: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` per request; backoff `base` * 2**n (halved and jittered), at most `cap`
    seconds; all the waiting the API imposes on one read (backoff, Retry-After, a spent
    budget) at most `budget` seconds."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 20.0
    budget: float = 90.0


Say = Callable[[str], None]


class Progress:
    """A one-line account of a read for a front end: what is being read, how far, and why it
    waits. `say` gets the whole line each time it changes (at most ten times a second)."""

    def __init__(self, say: Say | None, label: str, clock: Callable[[], float] = time.monotonic):
        self.say = say
        self.label = label
        self.clock = clock
        self.what = ""
        self.done = 0
        self.total = 0
        self.requests = 0
        self.waited = 0.0
        self._shown = -1.0

    def stage(self, what: str, total: int = 0) -> None:
        self.what, self.done, self.total = what, 0, total
        self._show(force=True)

    def step(self) -> None:
        self.done += 1
        self._show(force=self.done == self.total)

    def request(self) -> None:
        self.requests += 1

    def waiting(self, seconds: float, why: str) -> None:
        self.waited += seconds
        if self.say is not None and seconds >= 0.5:
            self.say(f"{self.label}: {why}: waiting {seconds:.0f} s")
            self._shown = self.clock()

    def line(self) -> str:
        count = f" {self.done}/{self.total}" if self.total else ""
        return f"{self.label}: {self.what}{count}"

    def _show(self, force: bool = False) -> None:
        if self.say is None:
            return
        now = self.clock()
        if force or now - self._shown >= 0.1:
            self._shown = now
            self.say(self.line())


def header_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` or a rate limit reset header: a number of seconds, an
    epoch time in seconds or milliseconds, or an HTTP date. None when there is none to read."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    wall = time.time() if now is None else now
    try:
        number = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        return max(0.0, when.timestamp() - wall)
    if number != number or number < 0:  # NaN or negative
        return None
    if number > 1e12:
        return max(0.0, number / 1000 - wall)
    if number > 1e9:
        return max(0.0, number - wall)
    return number


def _header_int(headers: httpx.Headers, *names: str) -> int | None:
    for name in names:
        value = headers.get(name)
        if value is not None and value.strip().lstrip("-").isdigit():
            return int(value.strip())
    return None


class _Gate:
    """Requests in flight, the sliding window, and the budget the API announces."""

    def __init__(
        self,
        pace: Pace,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.pace = pace
        self.clock = clock
        self.sleep = sleep
        self.slots = asyncio.Semaphore(max(1, pace.concurrency))
        self.lock = asyncio.Lock()
        self.sent: deque[float] = deque()
        self.remaining: int | None = None
        self.reset_at: float | None = None
        self.limit: int | None = None
        self.in_flight = 0

    def learn(self, headers: httpx.Headers) -> None:
        """Take the budget an answer announces, less the requests still in flight (the server
        may not have counted them yet); within one window, never more than already known."""
        remaining = _header_int(headers, "ratelimit-remaining", "x-ratelimit-remaining")
        if remaining is None:
            return
        self.limit = _header_int(headers, "ratelimit-limit", "x-ratelimit-limit")
        reset = header_seconds(headers.get("ratelimit-reset") or headers.get("x-ratelimit-reset"))
        reset_at = self.clock() + (reset if reset is not None else 1.0)
        estimate = remaining - self.in_flight
        same = self.reset_at is not None and abs(reset_at - self.reset_at) < 1.0
        if same and self.remaining is not None:
            estimate = min(estimate, self.remaining)
        self.remaining = max(0, estimate)
        self.reset_at = reset_at

    async def enter(self, on_wait: Callable[[float, str], Awaitable[None]]) -> None:
        await self.slots.acquire()
        try:
            async with self.lock:
                await self._budget(on_wait)
                await self._window()
                self.sent.append(self.clock())
                if self.remaining is not None:
                    self.remaining -= 1
                self.in_flight += 1
        except BaseException:
            self.slots.release()
            raise

    def leave(self) -> None:
        self.in_flight -= 1
        self.slots.release()

    async def _budget(self, on_wait: Callable[[float, str], Awaitable[None]]) -> None:
        if self.remaining is None or self.remaining > 0:
            return
        wait = max(0.0, (self.reset_at or self.clock()) - self.clock())
        if wait > 0:
            await on_wait(wait, "the API's rate limit budget is spent")
        # a new window: what was sent before it no longer counts
        self.sent.clear()
        self.remaining = self.limit
        self.reset_at = None

    async def _window(self) -> None:
        if self.remaining is not None and not self.pace.always:
            return
        window, most = self.pace.window, max(1, self.pace.per_window)
        while True:
            now = self.clock()
            while self.sent and now - self.sent[0] >= window:
                self.sent.popleft()
            if len(self.sent) < most:
                return
            await self.sleep(window - (now - self.sent[0]))


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else body
    message = first.get("message") if isinstance(first, dict) else None
    if isinstance(message, str) and message:
        return ": " + " ".join(message.split())[:200]
    return ""


def refusal(response: httpx.Response, what: str, host: str) -> InputError | SourceError:
    """What a final 4xx answer means, in one line."""
    status = response.status_code
    if status == 401:
        return InputError(f"{what}: the API refused the key (401 Unauthorized)", host)
    if status == 403:
        return InputError(f"{what}: the key may not read this (403 Forbidden)", host)
    if status == 404:
        return InputError(f"{what}: not found (404){_detail(response)}", host)
    return SourceError(f"{what}: the API answered HTTP {status}{_detail(response)}", host)


class ApiClient:
    """One read of one platform's API: pacing, retries and the errors, around httpx."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        host: str,
        pace: Pace,
        retry: RetryPolicy | None = None,
        progress: Progress | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] | None = None,
    ) -> None:
        self.host = host
        self.retry = retry or RetryPolicy()
        self.progress = progress or Progress(None, host)
        self.clock = clock
        self.sleep = sleep
        self.rand = rand or random.SystemRandom().random
        self.gate = _Gate(pace, clock, sleep)
        self.waited = 0.0
        self.http = httpx.AsyncClient(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **headers},
            timeout=TIMEOUT,
            transport=transport,
            follow_redirects=False,
        )

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def get_json(self, path: str, what: str, params: Mapping[str, str] | None = None) -> Any:
        response = await self.send("GET", path.lstrip("/"), what, params=dict(params or {}))
        return self._json(response, what)

    async def post_json(self, url: str, what: str, body: Mapping[str, Any]) -> Any:
        response = await self.send("POST", url, what, json=dict(body))
        return self._json(response, what)

    def _json(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SourceError(f"{what}: the answer is not JSON", self.host) from None

    async def _wait(self, seconds: float, why: str, what: str) -> None:
        """Wait as the API asks, within what is left of the read's budget."""
        left = self.retry.budget - self.waited
        if seconds > left:
            raise SourceError(
                f"{what}: {why}; the API asks to wait {_secs(seconds)}, more than pnet waits "
                f"({_secs(self.retry.budget)} in all for one read): try again later",
                self.host,
            )
        self.waited += seconds
        self.progress.waiting(seconds, why)
        await self.sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        step = min(self.retry.cap, self.retry.base * 2.0**attempt)
        return step / 2 + self.rand() * step / 2

    async def send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        """The final answer to one request: 2xx, or an error after the retries."""
        attempts = max(1, self.retry.attempts)
        started = self.clock()
        failures = tries = 0
        last = ""
        for attempt in range(attempts):
            tries += 1
            await self.gate.enter(lambda s, why: self._wait(s, why, what))
            try:
                self.progress.request()
                response = await self.http.request(method, url, **kwargs)
            except httpx.TimeoutException:
                failures += 1
                last = "no answer in time"
                response = None
            except httpx.HTTPError as exc:
                failures += 1
                last = f"cannot reach the API ({_reason(exc)})"
                response = None
            finally:
                self.gate.leave()
            if response is None:
                if failures >= min(attempts, NETWORK_ATTEMPTS):
                    break
                await self._wait(self._backoff(attempt), last, what)
                continue
            self.gate.learn(response.headers)
            status = response.status_code
            if status < 400:
                return response
            if status != 429 and status < 500:
                raise refusal(response, what, self.host)
            asked = header_seconds(response.headers.get("retry-after"))
            if status == 429:
                last = "rate limited (429)"
                if asked is None:
                    asked = header_seconds(
                        response.headers.get("ratelimit-reset")
                        or response.headers.get("x-ratelimit-reset")
                    )
            else:
                last = f"the API answered HTTP {status}{_detail(response)}"
            if attempt + 1 == attempts:
                break
            wait = self._backoff(attempt)
            if asked is not None:
                wait = asked + self.rand() * min(1.0, 0.1 + asked / 10)
            await self._wait(wait, last, what)
        spent = self.clock() - started
        raise SourceError(f"{what}: {last} ({tries} attempts in {_secs(spent)})", self.host)


async def gather(*jobs: Awaitable[T]) -> list[T]:
    """The results of `jobs`, run together; the first failure cancels the others, waits for
    them to end (no request is left behind a closed client) and is raised as it is."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_wrap(job)) for job in jobs]
    except BaseExceptionGroup as exc:
        raise _first(exc) from None
    return [t.result() for t in tasks]


async def _wrap(job: Awaitable[T]) -> T:
    return await job


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return group.exceptions[0]


async def bounded(jobs: list[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Run `jobs` at most `limit` at a time, in order of their results."""
    gate = asyncio.Semaphore(max(1, limit))

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return await gather(*(one(j) for j in jobs))


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:160] if text else type(exc).__name__


def _secs(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


__all__ = [
    "TIMEOUT",
    "USER_AGENT",
    "ApiClient",
    "Pace",
    "Progress",
    "RetryPolicy",
    "Say",
    "bounded",
    "gather",
    "header_seconds",
    "refusal",
]
