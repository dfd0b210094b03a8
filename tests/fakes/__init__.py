"""Test doubles that are real network peers (not mocks) for the bot's external services."""

from bot.localslack import Call, FakeSlack

__all__ = ["Call", "FakeSlack"]
