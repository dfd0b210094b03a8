"""Slack's request signature, checked so that nothing a sender puts in a request can raise.

Any failure (a missing, malformed, non-numeric, stale or future timestamp; a missing, malformed or
wrong signature) is a plain `False`: the caller answers 401 and calls nothing, not even the
payload's response_url, since the payload is the sender's word until the signature holds.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

MAX_AGE_SECONDS = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    """One header's single value (Bolt gives lists of values); None when absent or repeated."""
    for key, value in headers.items():
        if key.lower() == name:
            if isinstance(value, list | tuple):
                value = value[0] if len(value) == 1 else None
            return value if isinstance(value, str) else None
    return None


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, Any],
    *,
    now: Callable[[], float] = time.time,
) -> str | None:
    """None when the request is Slack's, else why not (for the log line; never shown to anyone)."""
    timestamp = _header(headers, "x-slack-request-timestamp")
    signature = _header(headers, "x-slack-signature")
    if not timestamp or not signature:
        return "missing timestamp or signature"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "malformed timestamp"
    if abs(now() - int(timestamp)) > MAX_AGE_SECONDS:
        return "stale or future timestamp"
    if not _SIGNATURE.fullmatch(signature):
        return "malformed signature"
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "wrong signature"
    return None
