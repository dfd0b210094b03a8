"""TikTok Shop's request signature (HMAC-SHA256 over path, sorted parameters and body)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

_EXCLUDED_FROM_SIGN = frozenset({"sign", "access_token"})


def sign_request(path: str, params: Mapping[str, str], body: bytes, app_secret: str) -> str:
    """Return TikTok Shop's request signature (lowercase hex HMAC-SHA256).

    The signed string is ``secret + path + k1v1k2v2... + body + secret``: every query parameter
    except ``sign`` and ``access_token``, sorted by key, each key followed by its value, after the
    request path; then the exact JSON body (empty for GET; pass ``b""`` for multipart bodies,
    which are not signed). The HMAC key is the app secret.
    """
    pieces = [path]
    pieces.extend(f"{key}{params[key]}" for key in sorted(params) if key not in _EXCLUDED_FROM_SIGN)
    pieces.append(body.decode("utf-8"))
    string_to_sign = app_secret + "".join(pieces) + app_secret
    return hmac.new(app_secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
