"""Downloading a file someone shared in Slack, with the bot token, into a local file.

The token goes only to Slack's own file hosts (or the configured Slack API's host, for the local
fake); the size is capped while streaming, whatever the file claimed; and Slack's habit of answering
a request it will not serve with its HTML sign-in page (status 200) is caught and named.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import httpx

CHUNK = 64 * 1024
SLACK_FILE_HOSTS = ("files.slack.com",)


class DownloadError(Exception):
    """The file could not be fetched; the message is fit to show the person (never the token)."""


def trusted(url: str, api_url: str) -> bool:
    """Whether `url` is one of Slack's file hosts (https), or on the configured Slack API's host."""
    parts = urllib.parse.urlsplit(url)
    api = urllib.parse.urlsplit(api_url)
    if parts.scheme == "https" and (parts.hostname in SLACK_FILE_HOSTS):
        return True
    return bool(parts.hostname) and (parts.scheme, parts.hostname, parts.port) == (
        api.scheme,
        api.hostname,
        api.port,
    )


def download(url: str, token: str, target: Path, *, max_bytes: int, api_url: str, timeout: float = 60) -> int:
    """Stream the file at `url` into `target`; returns its size. Raises DownloadError."""
    if not trusted(url, api_url):
        raise DownloadError("the file is not stored by Slack, so I will not fetch it with the bot's token")
    size = 0
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response,
        ):
            if response.status_code != 200:
                raise DownloadError(f"Slack answered the download with HTTP {response.status_code}")
            if response.headers.get("content-type", "").startswith("text/html"):
                raise DownloadError(
                    "Slack sent its sign-in page instead of the file: the app needs the files:read "
                    "scope (reinstall it after adding the scope)"
                )
            with target.open("wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise DownloadError(f"the file is larger than {max_bytes // 1_000_000} MB")
                    out.write(chunk)
    except httpx.HTTPError as exc:
        raise DownloadError(f"the download failed ({type(exc).__name__})") from None
    return size
