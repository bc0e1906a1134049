"""The package's maps stay complete: every module is named in ``emotion/__init__.py``'s docstring and every
command of ``python -m emotion`` in ``emotion/cli.py``'s."""

import argparse
import re
from pathlib import Path

import emotion
from emotion import cli

PACKAGE = Path(emotion.__file__).parent


def test_every_module_is_on_the_package_map():
    modules = {path.stem for path in PACKAGE.glob("*.py") if not path.stem.startswith("_")}
    named = set(re.findall(r"``(\w+)``", emotion.__doc__))
    assert sorted(modules - named) == [], "add these modules to the map in emotion/__init__.py"
    assert sorted(named - modules) == [], "the map names modules that do not exist"


def test_every_command_is_in_the_cli_docstring():
    parser = cli.build_parser() if hasattr(cli, "build_parser") else None
    if parser is None:
        source = Path(cli.__file__).read_text()
        commands = set(re.findall(r'add_parser\(\s*"([a-z-]+)"', source))
    else:
        subparsers = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
        commands = set(subparsers.choices)
    documented = set(re.findall(r"^    ([a-z][a-z-]+) ", cli.__doc__, re.M))
    assert sorted(commands - documented) == [], "document these commands in emotion/cli.py's docstring"
    assert sorted(documented - commands) == []
