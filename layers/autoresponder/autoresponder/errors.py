"""Typed errors (docs/style.md habit 7).

`RetryableError`s propagate out of the handler so Lambda retries and, after the last attempt,
the OnFailure destination keeps the event. `PermanentError`s become a recorded `fail` decision.
"""

from __future__ import annotations


class AutoresponderError(Exception):
    """Root of the project's errors."""

    def __init__(self, message: str, **data: object) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def __str__(self) -> str:
        if not self.data:
            return self.message
        details = ", ".join(f"{key}={value}" for key, value in sorted(self.data.items()))
        return f"{self.message} ({details})"


class RetryableError(AutoresponderError):
    """A failure a later attempt can fix: raised so Lambda retries."""


class TableBusyError(RetryableError):
    """The table or index is UPDATING, or another invocation holds its lock."""


class AwsThrottledError(RetryableError):
    """A control-plane call was throttled after the SDK's own retries."""


class AwsUnavailableError(RetryableError):
    """AWS answered with a server error or did not answer in time."""


class OutcomeUnknownError(RetryableError):
    """AWS did not answer whether it made a change and the table does not show it yet: the
    intent stays pending, and the next attempt settles it by looking at the table."""


class MetricsNotReadyError(RetryableError):
    """CloudWatch has not published (or cannot serve) the datapoints a decision needs yet."""


class PermanentError(AutoresponderError):
    """A failure no retry can fix: recorded as a `fail` decision and notified."""


class AccessDeniedError(PermanentError):
    """IAM denied the call (often: the table lacks the `autoresponder:managed` tag)."""


class LimitExceededError(PermanentError):
    """An account or table limit refused the change."""


class InvalidChangeError(PermanentError):
    """AWS rejected the change as invalid (ValidationException)."""


class ResourceNotFoundError(PermanentError):
    """The table, index or scalable target does not exist."""


class AwsCallError(PermanentError):
    """Any other client error AWS reported."""
