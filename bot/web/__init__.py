"""The Slack app and its HTTP side: the app factory, middleware, and the web routes."""
