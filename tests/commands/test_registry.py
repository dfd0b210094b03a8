"""The `/health` registry: every subcommand declared once, and everything that lists them (the help
card, the manifest's usage hint, the README's command table) agrees with it."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from blocks.message import message
from bot.commands import subcommands
from bot.commands.asker import Asker
from bot.commands.registry import answer, find, help_reply, parse, registry, usage_hint
from bot.ingest.demo import DemoSize, load_demo
from bot.settings import Settings
from tests.conftest import TODAY
from tests.support.slack import text_of
from tests.support.statements import driver_modes

ROOT = Path(__file__).resolve().parents[2]


def test_every_subcommand_module_declares_its_subcommands() -> None:
    modules = {m.name for m in pkgutil.iter_modules(subcommands.__path__)}
    declared = {sub.run.__module__.rsplit(".", 1)[-1] for sub in registry()}
    assert modules == declared, "a module in bot/commands/subcommands declares no SUBCOMMANDS"


def test_names_and_aliases_are_unique_and_lower_case() -> None:
    words = [w for sub in registry() for w in (sub.name, *sub.aliases)]
    assert len(words) == len(set(words))
    assert all(w == w.lower() for w in words)
    assert {"help", "overview", "atrisk", "shop", "list", "unauthorized", "trend", "mine", "digest"} <= {
        s.name for s in registry()
    }


@pytest.mark.parametrize("sub", registry(), ids=lambda s: s.name)
def test_each_example_parses_as_its_own_subcommand(sub: object) -> None:
    found, _ = parse(sub.example)  # type: ignore[attr-defined]
    assert found is sub
    assert sub.usage.split()[0] == sub.name  # type: ignore[attr-defined]


def test_help_lists_every_subcommand_with_its_example() -> None:
    text = text_of(help_reply().blocks)
    for sub in registry():
        assert f"/health {sub.example}" in text.replace("&lt;", "<").replace("&gt;", ">")
        assert f"/health {sub.usage}" in text.replace("&lt;", "<").replace("&gt;", ">")


def test_manifest_usage_hint_comes_from_the_registry() -> None:
    manifest = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    (command,) = manifest["features"]["slash_commands"]
    assert command["usage_hint"] == usage_hint(), f"set usage_hint in app.yaml to: {usage_hint()!r}"


def test_readme_command_table_lists_every_subcommand() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = {m.group(1) for m in re.finditer(r"^\| `/health ([^`]+)` \|", readme, re.M)}
    missing = [sub.usage for sub in registry() if sub.usage.replace("|", "\\|") not in table]
    assert not missing, f"README's command table lacks: {missing}"


def test_find_is_case_insensitive() -> None:
    assert find("OVERVIEW") is find("ov") is find("overview")
    assert find("nope") is None


def test_admin_only_subcommands_refuse_others_before_running(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    outsider_of_admins = Asker(user_id="U2", channel_id="C1", admin_check=lambda: False)
    with factory() as session:
        reply = answer(session, "digest subscribe", settings=settings, asker=outsider_of_admins)
        assert reply == message("Only the bot's admins (HEALTHBOT_ADMINS) may change digest subscriptions.")
        listed = answer(session, "digest list", settings=settings, asker=outsider_of_admins)
    assert "No channel is subscribed yet" in text_of(listed.blocks)


@pytest.fixture
def demo(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    load_demo(factory, DemoSize(shops=40, days=10), TODAY)
    return factory


@pytest.mark.parametrize("sub", registry(), ids=lambda s: s.name)
def test_every_example_answers_on_demo_data(
    demo: sessionmaker[Session], settings: Settings, sub: object
) -> None:
    example = sub.example.replace("#seller-health", "<#C123|seller-health>")  # type: ignore[attr-defined]
    with driver_modes(demo.kw["bind"]) as modes, demo() as session:
        reply = answer(
            session, example, settings=settings, asker=Asker(user_id="U1", channel_id="C1"), today=TODAY
        )
    shown = text_of(reply.blocks)
    assert reply.blocks and "Sorry" not in shown and "Traceback" not in shown, shown[:300]
    # A shareable reply reads first, without a transaction (`db.reads_first`); the others as before.
    shareable = sub.can_share(parse(example)[1])  # type: ignore[attr-defined]
    assert modes[:1] == ([] if sub.name == "help" else [shareable])  # type: ignore[attr-defined]  # help reads nothing
