"""Translate botocore errors into the project's own (docs/style.md habit 4)."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from autoresponder.errors import (
    AccessDeniedError,
    AutoresponderError,
    AwsCallError,
    AwsThrottledError,
    AwsUnavailableError,
    InvalidChangeError,
    LimitExceededError,
    ResourceNotFoundError,
    TableBusyError,
)

_BY_CODE: dict[str, type[AutoresponderError]] = {
    "ResourceInUseException": TableBusyError,
    "ThrottlingException": AwsThrottledError,
    "Throttling": AwsThrottledError,
    "Throttled": AwsThrottledError,
    "RequestLimitExceeded": AwsThrottledError,
    "TooManyRequestsException": AwsThrottledError,
    "ProvisionedThroughputExceededException": AwsThrottledError,
    "ConcurrentUpdateException": TableBusyError,
    "InternalServerError": AwsUnavailableError,
    "InternalServiceError": AwsUnavailableError,
    "InternalServiceException": AwsUnavailableError,
    "InternalFailure": AwsUnavailableError,
    "ServiceUnavailable": AwsUnavailableError,
    "AccessDeniedException": AccessDeniedError,
    "AccessDenied": AccessDeniedError,
    "UnauthorizedOperation": AccessDeniedError,
    "LimitExceededException": LimitExceededError,
    "ValidationException": InvalidChangeError,
    "ResourceNotFoundException": ResourceNotFoundError,
    "ObjectNotFoundException": ResourceNotFoundError,
    # SNS Publish (a topic encrypted with a customer managed KMS key)
    "KMSThrottling": AwsThrottledError,
    "KMSAccessDenied": AccessDeniedError,
    "KMSDisabled": AccessDeniedError,
    "KMSInvalidState": AccessDeniedError,
    "KMSNotFound": ResourceNotFoundError,
    "KMSOptInRequired": AccessDeniedError,
    "AuthorizationError": AccessDeniedError,
    "NotFound": ResourceNotFoundError,
    "InvalidSecurity": AccessDeniedError,
}


def translate(exc: Exception, operation: str, **data: object) -> AutoresponderError:
    """The project error for a botocore failure of `operation`."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        kind = _BY_CODE.get(code)
        if kind is None and int(status or 0) == 429:
            kind = AwsThrottledError
        if kind is None:
            kind = AwsUnavailableError if int(status or 0) >= 500 else AwsCallError
        return kind(f"{operation} failed: {code}: {message}", code=code, **data)
    if isinstance(exc, ReadTimeoutError | BotoConnectionError):
        return AwsUnavailableError(f"{operation} did not answer: {exc}", **data)
    if isinstance(exc, BotoCoreError):
        return AwsUnavailableError(f"{operation} failed: {exc}", **data)
    return AwsCallError(f"{operation} failed: {exc}", **data)


AWS_ERRORS = (ClientError, BotoCoreError)
