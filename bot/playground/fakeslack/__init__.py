"""A local stand-in for the Slack Web API (see `core`), used by the tests and the playground."""

from bot.playground.fakeslack.core import RESPONSE_URL_METHOD, UPLOAD_METHOD, FakeSlack
from bot.playground.fakeslack.wire import Call

__all__ = ["RESPONSE_URL_METHOD", "UPLOAD_METHOD", "Call", "FakeSlack"]
