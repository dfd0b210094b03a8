"""The user documentation in docs/ and the README: carried in the repository, linked from the
README, and the command reference kept in step with the /health registry and the `healthbot`
parser.

`.venv/bin/python -m tests.test_docs` prints the command table docs/commands.md must carry.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.cli import build_parser
from bot.commands.registry import registry
from bot.commands.spec import Subcommand

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BEGIN = "<!-- commands: generated from the /health registry; tests/test_docs.py checks it -->"
END = "<!-- /commands -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _who(sub: Subcommand) -> str:
    if callable(sub.admin_only):
        return f"everyone; admins to {sub.admin_action}"
    return "admins" if sub.admin_only else "everyone"


def command_table() -> str:
    """The command table, as docs/commands.md carries it between BEGIN and END."""
    lines = [
        "| command | what it does | example | also | who |",
        "|---|---|---|---|---|",
    ]
    for sub in registry():
        also = ", ".join(f"`{alias}`" for alias in sub.aliases) or "-"
        lines.append(
            f"| `/health {_cell(sub.usage)}` | {_cell(sub.summary)} | `/health {_cell(sub.example)}` | "
            f"{also} | {_who(sub)} |"
        )
    return "\n".join(lines)


def _commands_md() -> str:
    return (DOCS / "commands.md").read_text(encoding="utf-8")


def test_the_command_table_comes_from_the_registry() -> None:
    text = _commands_md()
    assert BEGIN in text and END in text
    carried = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert carried == command_table(), (
        "docs/commands.md's table differs from the registry; replace it with the output of "
        "`.venv/bin/python -m tests.test_docs`"
    )


def test_every_subcommand_has_its_own_section() -> None:
    headings = set(re.findall(r"^### `/health ([a-z-]+)", _commands_md(), re.M))
    missing = [sub.name for sub in registry() if sub.name not in headings]
    assert not missing, f"docs/commands.md has no section for: {missing}"


def test_every_healthbot_command_is_described() -> None:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]  # the subcommand choices
    described = set(re.findall(r"`healthbot ([a-z]+)", _commands_md()))
    missing = sorted(set(sub.choices or {}) - described)  # type: ignore[arg-type]
    assert not missing, f"docs/commands.md does not describe: {missing}"


def test_the_readme_carries_its_own_documentation() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme, "a clone has no ../shared: link docs/ instead"
    for page in ("docs/rules.md", "docs/commands.md"):
        assert f"]({page})" in readme, f"the README does not link {page}"
        assert (ROOT / page).is_file()
    for page in DOCS.glob("*.md"):
        assert "../shared" not in page.read_text(encoding="utf-8"), page.name


def test_the_readme_first_screen_goes_from_clone_to_playground_to_slack() -> None:
    """What a new user reads first (the introduction and the first section) says how to get the
    playground and how to connect a real workspace, with nothing outside the repository."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    screen = "\n## ".join(readme.split("\n## ", 2)[:2])
    for step in ("git clone", "make run", "http://127.0.0.1:3000/", "app.yaml", "healthbot doctor", ".env"):
        assert step in screen, f"the README's first screen lacks {step!r}"


def test_connecting_to_slack_runs_the_doctor() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Connecting to Slack", 1)[1].split("\n## ", 1)[0]
    steps = re.findall(r"^\d+\. .*$", section, re.M)
    assert any("healthbot doctor" in step for step in steps), (
        "a Connecting to Slack step runs healthbot doctor"
    )


def test_relative_links_in_the_docs_resolve() -> None:
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", text):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


if __name__ == "__main__":
    print(BEGIN)
    print(command_table())
    print(END)
