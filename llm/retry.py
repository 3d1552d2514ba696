"""Retries for LLM calls: exponential backoff with jitter on rate limits, 5xx and timeouts."""
from __future__ import annotations

from typing import Any, Callable, Optional

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential


class TransientLLMError(RuntimeError):
    """A failure worth retrying (rate limit, server error, timeout)."""

    def __init__(self, kind: str, message: str = "", retry_after: Optional[float] = None):
        super().__init__(message or kind)
        self.kind = kind
        self.retry_after = retry_after


class LLMOutputError(ValueError):
    """The LLM answered, but not in a usable shape (invalid JSON, unknown tool, schema mismatch)."""


class ContextLengthError(ValueError):
    """The prompt does not fit the model's context window."""


def classify_error(exc: BaseException) -> Optional[str]:
    """The fault kind of a retryable exception, or None when it must not be retried."""
    if isinstance(exc, TransientLLMError):
        return exc.kind
    names = {cls.__name__ for cls in type(exc).__mro__}  # openai, httpx and langchain subclasses
    if "RateLimitError" in names:
        return "rate_limit"
    if names & {"APITimeoutError", "OpenAITimeoutError", "TimeoutError", "ReadTimeout",
                "ConnectTimeout", "TimeoutException"}:
        return "timeout"
    if names & {"APIConnectionError", "ConnectError", "RemoteProtocolError"}:
        return "connection"
    if "InternalServerError" in names:
        return "server_error"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and (status == 429 or status >= 500):
        return "rate_limit" if status == 429 else "server_error"
    return None


def _retry_after(exc: BaseException) -> Optional[float]:
    if isinstance(exc, TransientLLMError) and exc.retry_after is not None:
        return exc.retry_after
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        value = headers.get("retry-after")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class _WaitRetryAfterOrJitter:
    """Honour a server's Retry-After, else exponential backoff with full jitter."""

    def __init__(self, multiplier: float, max_wait: float):
        self.jitter = wait_random_exponential(multiplier=multiplier, max=max_wait)
        self.max_wait = max_wait

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = _retry_after(exc) if exc else None
        if after is not None:
            return min(after, self.max_wait)
        return self.jitter(state)


def make_retrying(
    attempts: int = 6,
    multiplier: float = 0.5,
    max_wait: float = 30.0,
    on_retry: Optional[Callable[[BaseException], Any]] = None,
) -> Retrying:
    """A tenacity policy that retries transient faults only and re-raises the last one."""

    def before_sleep(state: RetryCallState) -> None:
        if on_retry and state.outcome is not None:
            on_retry(state.outcome.exception())

    return Retrying(
        retry=retry_if_exception(lambda e: classify_error(e) is not None),
        wait=_WaitRetryAfterOrJitter(multiplier, max_wait),
        stop=stop_after_attempt(attempts),
        before_sleep=before_sleep,
        reraise=True,
    )
