"""The production server's worker: what it does with the app it loads."""

from __future__ import annotations

import gc

from flask import Flask

from bot.web.server import Gunicorn


def test_a_worker_leaves_the_loaded_apps_objects_out_of_the_collectors_full_passes() -> None:
    app = Flask("worker")
    assert gc.get_freeze_count() == 0
    try:
        assert Gunicorn(lambda: app, {"workers": 1}).load() is app
        assert gc.get_freeze_count() > 1000  # the app and everything imported to build it
    finally:
        gc.unfreeze()
