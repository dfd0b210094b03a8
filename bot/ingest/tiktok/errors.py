"""Errors the TikTok Shop client raises. Messages name the API path and the HTTP status or TikTok
code, never a secret."""

from __future__ import annotations


class TikTokError(Exception):
    """Base class of every error this module raises."""


class TikTokConfigError(TikTokError):
    """The client is missing credentials or is pointed at an unusable URL."""


class TikTokAuthError(TikTokError):
    """TikTok rejected the partner's credentials (codes 105xxx) or refused a token refresh."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class TikTokUnavailable(TikTokError):
    """TikTok could not be reached, or kept failing / throttling, after every retry."""

    def __init__(self, path: str, last_status: str, attempts: int) -> None:
        super().__init__(
            f"TikTok Shop API unavailable for {path}: gave up after try {attempts}; last status: {last_status}"
        )
        self.path = path
        self.last_status = last_status
        self.attempts = attempts


class TikTokApiError(TikTokError):
    """TikTok answered with a non-zero code that is neither an auth failure nor a rate limit.

    ``code`` is -1 when the response was not the JSON envelope TikTok documents.
    """

    def __init__(self, code: int, message: str, request_id: str | None = None) -> None:
        text = f"TikTok API error {code}: {message}"
        if request_id:
            text += f" (request_id {request_id})"
        super().__init__(text)
        self.code = code
        self.message = message
        self.request_id = request_id
