"""Sellers' TikTok tokens encrypted at rest with Fernet (`cryptography`), keyed by
HEALTHBOT_ENCRYPTION_KEY.

Several comma-separated keys rotate: the first encrypts, every one decrypts. Without a key the bot
refuses to store tokens at all (never plaintext), saying how to make one. Errors never carry a
key or a token.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.settings import Settings

GENERATE_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


class VaultError(RuntimeError):
    """No usable key, or a token that none of the keys can read."""


class TokenVault:
    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise VaultError(missing_key_message())
        try:
            self._fernet = MultiFernet([Fernet(part.encode("ascii")) for part in parts])
        except (ValueError, UnicodeEncodeError):
            raise VaultError(
                "HEALTHBOT_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes); "
                f"make one with: {GENERATE_KEY}"
            ) from None

    def __repr__(self) -> str:
        return "TokenVault(<keys hidden>)"

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        try:
            return self._fernet.decrypt(stored.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise VaultError(
                "a stored TikTok token cannot be decrypted with HEALTHBOT_ENCRYPTION_KEY "
                "(was the key changed? keep the old key after the new one, comma-separated)"
            ) from None


def missing_key_message() -> str:
    return (
        "HEALTHBOT_ENCRYPTION_KEY is not set, so sellers' TikTok tokens cannot be stored encrypted; "
        f"make a key with: {GENERATE_KEY}  and set it in the environment or .env"
    )


def vault_from_settings(settings: Settings) -> TokenVault:
    """The vault for the configured key; VaultError with a clear message when there is none."""
    key = settings.healthbot_encryption_key
    if key is None or not key.get_secret_value().strip():
        raise VaultError(missing_key_message())
    return TokenVault(key.get_secret_value())
