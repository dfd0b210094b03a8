"""`python -m bench.floor --port N --workers W`: the floor for `healthbot bench`.

A Bolt app that only acks `/health` and button clicks, served exactly as `healthbot serve` serves the bot (Flask,
Bolt's Flask adapter, gunicorn with the same worker class, threads and worker count), so the bench
can print every figure beside what the stack itself costs: signature check, parsing, one reply.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any

from flask import Flask, jsonify, request
from slack_bolt import Ack, App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

from bot.web.server import serve_production


def create_floor(signing_secret: str, slack_api_url: str) -> Flask:
    # The same local fake Slack as the bot's (Bolt asks auth.test who it is, once per process).
    client = WebClient(token="xoxb-bench", base_url=slack_api_url)
    # The bot's own Bolt settings (bot.web.app.create_app): the reply rides on the ack.
    app = App(
        signing_secret=signing_secret,
        client=client,
        request_verification_enabled=True,
        token_verification_enabled=False,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )

    @app.command("/health")
    def health(ack: Ack) -> None:
        ack(text="ok", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}])

    @app.action(re.compile(".*"))
    def any_button(ack: Ack) -> None:  # a click's floor: verify, parse, ack
        ack()

    web = Flask("floor")
    handler = SlackRequestHandler(app)

    @web.post("/slack/events")
    def events() -> Any:
        return handler.handle(request)

    @web.get("/readyz")
    def readyz() -> Any:
        return jsonify(status="ready")

    return web


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--signing-secret", required=True)
    parser.add_argument("--slack-api-url", required=True)
    args = parser.parse_args(argv)
    serve_production(
        lambda: create_floor(args.signing_secret, args.slack_api_url), port=args.port, workers=args.workers
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
