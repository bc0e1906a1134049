"""The package's maps stay complete: every module of every subpackage is named in ``emotion/__init__.py``'s
docstring (as ``subpackage.module``), every subpackage has a docstring, and every command of ``python -m emotion``
is in ``emotion/app/cli.py``'s."""

import argparse
import ast
import re
from pathlib import Path

import emotion
from emotion.app import cli

PACKAGE = Path(emotion.__file__).parent


def _subpackages() -> list[Path]:
    """The stage subpackages and the packages inside them (such as ``app/commands/``)."""
    return sorted(path.parent for pattern in ("*/__init__.py", "*/*/__init__.py") for path in PACKAGE.glob(pattern))


def _dotted(folder: Path) -> str:
    return ".".join(folder.relative_to(PACKAGE).parts)


def _modules() -> set[str]:
    modules = {path.stem for path in PACKAGE.glob("*.py") if not path.stem.startswith("_")}
    modules |= {_dotted(folder) for folder in _subpackages() if len(folder.relative_to(PACKAGE).parts) > 1}
    for folder in _subpackages():
        modules |= {f"{_dotted(folder)}.{path.stem}" for path in folder.glob("*.py") if not path.stem.startswith("_")}
    return modules


def test_every_module_is_on_the_package_map():
    named = set(re.findall(r"``([\w.]+)``", emotion.__doc__))
    modules = _modules()
    assert sorted(modules - named) == [], "add these modules to the map in emotion/__init__.py"
    assert sorted(named - modules) == [], "the map names modules that do not exist"


def test_modules_below_the_subpackages_are_in_packages_one_level_deep():
    loose = [path for path in PACKAGE.glob("*/*/*.py") if not (path.parent / "__init__.py").is_file()]
    assert sorted(str(path.relative_to(PACKAGE)) for path in loose) == []
    assert sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.glob("*/*/*/*.py")) == []


def test_every_subpackage_has_a_docstring():
    assert _subpackages(), "emotion/ has no subpackages"
    for folder in _subpackages():
        docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text()))
        where = "/".join(folder.relative_to(PACKAGE).parts)
        assert docstring, f"emotion/{where}/__init__.py needs a docstring saying what it holds"
        modules = {path.stem for path in folder.glob("*.py") if not path.stem.startswith("_")}
        named = set(re.findall(r"``(\w+)``", docstring))
        assert sorted(modules - named) == [], f"name these modules in emotion/{where}/__init__.py's docstring"


def test_every_command_is_in_the_cli_docstring():
    parser = cli.build_parser() if hasattr(cli, "build_parser") else None
    if parser is None:
        source = Path(cli.__file__).read_text()
        commands = set(re.findall(r'add_parser\(\s*"([a-z-]+)"', source))
    else:
        subparsers = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
        commands = set(subparsers.choices)
    documented = set(re.findall(r"^    ([a-z][a-z-]+) ", cli.__doc__, re.M))
    assert sorted(commands - documented) == [], "document these commands in emotion/app/cli.py's docstring"
    assert sorted(documented - commands) == []


def test_subpackages_import_without_tensorflow():
    import subprocess
    import sys

    names = [f"emotion.{_dotted(folder)}" for folder in _subpackages()]
    code = ("import sys\n" + "".join(f"import {name}\n" for name in names)
            + "heavy = sorted({'tensorflow', 'keras'} & set(sys.modules))\nassert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parent)


def _readme_layout() -> str:
    readme = (PACKAGE.parent / "README.md").read_text()
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    return block


def test_the_readme_layout_names_every_module_and_every_tracked_folder():
    layout = _readme_layout()
    words = set(re.findall(r"\w+", layout))
    missing = sorted(name for name in _modules() if name.rsplit(".", 1)[-1] not in words)
    assert missing == [], "name these modules in the README's Layout section"
    for folder in _subpackages():
        assert f"{folder.name}/" in layout, f"the README's Layout section lacks emotion/{folder.name}/"
    root = PACKAGE.parent
    folders = ["notebooks", "notebooks/runs", "emotion", "figures", "results", "models", "tests", "peer", ".ci"]
    for name in folders:
        assert (root / name).is_dir(), f"{name}/ no longer exists: update this test and the README"
        assert name.rsplit("/", 1)[-1] + "/" in layout, f"the README's Layout section lacks {name}/"
