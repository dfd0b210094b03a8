"""The local playground: a web page on 127.0.0.1 that stands in for Slack, on demo data, and the
fake Slack Web API it (and the tests) use. `healthbot serve` starts it when no Slack credentials
are set (and `healthbot serve --playground` always)."""
