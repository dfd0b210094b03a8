"""HTTP mode's routes, on Flask: `POST /slack/events` (Bolt's Flask adapter), `GET /healthz`,
`GET /readyz`, `POST /tiktok/webhook` and `GET /tiktok/oauth/callback`. Other route sets (the
playground) are blueprints."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler

from bot import db
from bot.deps import Deps
from bot.ingest.tiktok.connect import complete_authorization
from bot.ingest.tiktok.webhook import parse_webhook, verify_webhook
from bot.services.access import deauthorize
from bot.web.oauth_page import oauth_page

log = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 1_000_000


def create_web_app(app: App, deps: Deps, *blueprints: Blueprint) -> Flask:
    web = Flask("healthbot")
    slack = SlackRequestHandler(app)
    engine = deps.factory.kw["bind"]

    @web.post("/slack/events")
    def slack_events() -> Any:
        return slack.handle(request)

    @web.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @web.get("/readyz")
    def readyz() -> tuple[Response, int]:
        problem = db.writable(engine)
        if problem is None:
            return jsonify(status="ready"), 200
        return jsonify(status=problem), 503

    @web.post("/tiktok/webhook")
    def tiktok_webhook() -> tuple[Response, int]:
        settings = deps.settings
        if not (settings.tiktok_app_key and settings.tiktok_app_secret):
            return jsonify(error="TikTok app is not configured"), 503
        body = request.stream.read(MAX_WEBHOOK_BYTES)
        signature = request.headers.get("Authorization", "")
        if not verify_webhook(
            body, signature, settings.tiktok_app_key, settings.tiktok_app_secret.get_secret_value()
        ):
            return jsonify(error="bad signature"), 401
        try:
            event = parse_webhook(body)
        except ValueError as exc:
            return jsonify(error=str(exc)), 400
        if event.is_deauthorization and event.shop_id:
            with deps.factory() as session:
                changed = deauthorize(session, event.shop_id, deps.settings)
            log.info("TikTok deauthorization shop=%s changed=%s", event.shop_id, changed)
        return jsonify(ok=True), 200

    @web.get("/tiktok/oauth/callback")
    def tiktok_oauth_callback() -> Response:
        # TikTok redirects the seller here after they authorize the partner's app.
        done = complete_authorization(
            deps.settings,
            deps.factory,
            code=request.args.get("code", "")[:2048],
            state=request.args.get("state", "")[:1024],
        )
        page = oauth_page(done.title, done.message, ok=done.status == 200, shops=done.shops)
        response = Response(page, status=done.status, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"  # the code must not leak onwards
        return response

    for blueprint in blueprints:
        web.register_blueprint(blueprint)
    return web
