"""Import files from wherever they came (the command line, the sync folder, a Slack upload, the
playground): open each one (`readers`), import them shops first (`importer`), and report per file
its layout, rows, data date and every bad row. A dry run validates everything exactly as an import
would, inside one transaction that is rolled back, so nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.formats import KIND_ORDER, ImportFileError, ImportResult, Kind, RowError
from bot.ingest.importer import import_in_turn, import_rows
from bot.ingest.readers import Opened, Rows, open_file
from bot.settings import Settings

PROGRESS_EVERY = 500  # rows between progress reports


class Progress(Protocol):
    """Told how an import goes, file by file (the command line draws a bar from it)."""

    def start(self, opened: Opened) -> None: ...

    def advance(self, opened: Opened, rows: int) -> None: ...

    def finish(self, opened: Opened, result: ImportResult) -> None: ...


def import_paths(
    factory: sessionmaker[Session],
    files: Sequence[Path | tuple[Path, str]],
    *,
    skip_invalid: bool = False,
    data_date: dt.date | None = None,
    sheet: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    settings: Settings | None = None,
) -> list[ImportResult]:
    """Import each file in its own transaction (shops first), or with `dry_run` only check them.

    A file is a path, or (path, name) when its name as the person knows it differs (an upload
    saved to a temporary file): the name gives the type and may carry the data date.
    """
    results: list[ImportResult] = []
    opened: list[Opened] = []
    for item in files:
        path, name = item if isinstance(item, tuple) else (item, str(item))
        try:
            opened.append(open_file(path, name=name, sheet=sheet, data_date=data_date))
        except (ImportFileError, OSError) as exc:
            results.append(_unreadable(name, exc))
    opened.sort(key=lambda o: KIND_ORDER.index(o.kind))
    try:
        if dry_run:
            results += _check(factory, opened, skip_invalid=skip_invalid, progress=progress)
        else:
            sources = [(each.kind, _counted(each, progress), each.name) for each in opened]
            imported = import_in_turn(factory, sources, skip_invalid=skip_invalid, settings=settings)
            results += (
                _describe(result, each, progress) for result, each in zip(imported, opened, strict=True)
            )
    finally:
        for each in opened:
            each.close()
    return results


def _check(
    factory: sessionmaker[Session], opened: list[Opened], *, skip_invalid: bool, progress: Progress | None
) -> list[ImportResult]:
    results = []
    with factory.kw["bind"].connect() as connection:
        if connection.dialect.name == "sqlite":
            # pysqlite opens no transaction before a SAVEPOINT, so releasing one would commit it:
            # open the real transaction first, as SQLAlchemy's SQLite notes advise.
            connection.exec_driver_sql("BEGIN")
        for item in opened:
            # A savepoint per file: a rejected file leaves nothing for the next one to lean on,
            # exactly as its own rolled-back transaction would in a real import.
            nested = connection.begin_nested()
            try:
                result = import_rows(
                    connection,
                    item.kind,
                    _counted(item, progress),
                    source=item.name,
                    skip_invalid=skip_invalid,
                    rebuild=False,
                    commit=False,
                )
            except ImportFileError as exc:
                result = ImportResult.unreadable(item.name, item.kind, exc)
            if result.errors and not skip_invalid:
                nested.rollback()
            else:
                nested.commit()
            results.append(_describe(result, item, progress))
        connection.rollback()  # a dry run writes nothing
    return results


def _describe(result: ImportResult, opened: Opened, progress: Progress | None) -> ImportResult:
    result.source = opened.name
    result.layout = opened.layout.label
    result.data_date = opened.newest
    if progress is not None:
        progress.finish(opened, result)
    return result


def _counted(opened: Opened, progress: Progress | None) -> Rows:
    if progress is None:
        return opened.rows

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        count = 0
        progress.start(opened)
        for row in opened.rows:
            yield row
            count += 1
            if count % PROGRESS_EVERY == 0:
                progress.advance(opened, count)
        progress.advance(opened, count)

    return rows()


def _unreadable(name: str, exc: ImportFileError | OSError) -> ImportResult:
    if isinstance(exc, ImportFileError):
        return ImportResult(name, Kind.SHOPS, errors=[RowError(exc.line or 1, "-", exc.reason)])
    return ImportResult(name, Kind.SHOPS, errors=[RowError(1, "-", exc.strerror or str(exc))])
