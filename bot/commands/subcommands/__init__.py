"""The `/health` subcommands, one module each (several for close relatives), found by the registry."""
