"""`make setup` prints nothing a person must read: a quiet pip, and a package layout setuptools'
editable install has nothing to warn about."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_editable_install_is_a_plain_path_entry() -> None:
    """setuptools warns ("Editable installation... Please be careful with folders in your working
    directory") when it must install an import hook for packages it cannot map to one folder. With
    "" mapped to "." and every package a top-level folder, it adds this folder to sys.path instead,
    and says nothing."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert config["package-dir"] == {"": "."}
    for pattern in config["packages"]["find"]["include"]:
        package = pattern.removesuffix("*")
        assert (ROOT / package / "__init__.py").is_file(), f"{package} is not a top-level package"


def test_make_setup_installs_quietly() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = re.findall(r"^\t\$\(BIN\)/pip install (.*)$", makefile, re.M)
    assert installs and all("--quiet" in line for line in installs)
