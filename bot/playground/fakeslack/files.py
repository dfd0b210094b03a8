"""Files people share, kept apart from the other Web API methods: `share_file` puts a file into a
channel or DM as a person would upload it, `files.info` describes it (with its shares and its
private download URL), and `GET /files-pri/<team>-<file id>/<name>` serves its bytes.

As on Slack, the download needs `Authorization: Bearer <token>`; without one Slack answers 200 with
its HTML sign-in page rather than an error, and so does the fake, so the bot must notice.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable

from bot.playground.fakeslack.wire import JsonDict, Reply, api_error, api_ok, as_str

DOWNLOAD_PREFIX = "/files-pri/"
DOWNLOAD_METHOD = "download"  # the pseudo-method downloads are recorded under
TEAM = "T1"
SIGN_IN_PAGE = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"
_TYPES = {
    ".csv": ("csv", "text/csv", "CSV"),
    ".xlsx": (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel Spreadsheet",
    ),
    ".txt": ("text", "text/plain", "Plain Text"),
    ".pdf": ("pdf", "application/pdf", "PDF"),
}


class FileMethods:
    """Shared files and their downloads, as a mixin of FakeSlack (it holds their state)."""

    _lock: threading.RLock
    _shared_files: dict[str, JsonDict]
    _shared_content: dict[str, bytes]

    @property
    def base_url(self) -> str:
        raise NotImplementedError

    def _next_ts(self) -> str:
        raise NotImplementedError

    def _next_id(self, prefix: str) -> str:
        raise NotImplementedError

    def share_file(
        self, *, user: str, channel: str, name: str, content: bytes, size: int | None = None, team: str = TEAM
    ) -> JsonDict:
        """A person uploads `content` as `name` into `channel`; returns the file object, whose
        `shares` hold the message's ts. `size` may claim another size than the content's."""
        with self._lock:
            file_id = self._next_id("F")
            ts = self._next_ts()
            suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
            filetype, mimetype, pretty = _TYPES.get(suffix, ("binary", "application/octet-stream", "Binary"))
            url = f"{self.base_url}{DOWNLOAD_PREFIX.strip('/')}/{team}-{file_id}/{urllib.parse.quote(name)}"
            share = {"ts": ts, "channel_name": channel.lower(), "team_id": team, "share_user_id": user}
            where = "private" if channel[:1] in ("D", "G") else "public"
            file: JsonDict = {
                "id": file_id,
                "created": int(time.time()),
                "timestamp": int(time.time()),
                "name": name,
                "title": name,
                "mimetype": mimetype,
                "filetype": filetype,
                "pretty_type": pretty,
                "user": user,
                "user_team": team,
                "mode": "hosted",
                "is_external": False,
                "is_public": where == "public",
                "size": len(content) if size is None else size,
                "url_private": url,
                "url_private_download": url.replace(f"/{team}-{file_id}/", f"/{team}-{file_id}/download/"),
                "channels": [channel] if channel.startswith("C") else [],
                "groups": [channel] if channel.startswith("G") else [],
                "ims": [channel] if channel.startswith("D") else [],
                "shares": {where: {channel: [share]}},
            }
            self._shared_files[file_id] = file
            self._shared_content[file_id] = content
            return dict(file)

    def _files_info(self, params: JsonDict, now: float) -> Reply:
        file = self._shared_files.get(as_str(params.get("file")))
        if file is None:
            return api_error("file_not_found")
        return api_ok(file=file, comments=[], response_metadata={"next_cursor": ""})

    def _download(self, path: str, headers: dict[str, str]) -> Reply:
        """Serve a shared file's bytes to a request carrying a token; Slack's sign-in page otherwise."""
        parts = path.removeprefix(DOWNLOAD_PREFIX).split("/")
        file_id = parts[0].split("-", 1)[-1] if parts else ""
        if file_id not in self._shared_content:
            return Reply(404, "file_not_found")
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer xox"):
            return Reply(200, SIGN_IN_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        file = self._shared_files[file_id]
        return Reply(200, self._shared_content[file_id], {"Content-Type": str(file["mimetype"])})


FILE_METHODS: dict[str, Callable[[FileMethods, JsonDict, float], Reply]] = {
    "files.info": FileMethods._files_info,
}
