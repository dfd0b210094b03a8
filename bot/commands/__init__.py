"""The `/health` command language: one registry of subcommands, shared by Slack and `healthbot ask`."""
