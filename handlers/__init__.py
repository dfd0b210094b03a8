"""Bolt listeners. Each submodule exposes `register(app)`; nothing registers itself on import."""
