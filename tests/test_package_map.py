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


MAX_MODULE_LINES = 500
"""A module longer than this is doing two jobs (the house style): split it by job."""
STAGE_RANK = {"data": 1, "faces": 2, "classify": 3, "analysis": 4, "figures": 5, "study": 5, "app": 6}
"""The study's flow; the top-level modules (errors, paths, machine, provenance, paper, overlap) are its base, rank 0."""


def _stage(dotted: str) -> int | None:
    parts = dotted.split(".")
    if parts[0] != "emotion":
        return None
    return STAGE_RANK.get(parts[1], 0) if len(parts) > 1 else 0


def test_no_module_is_over_the_size_of_one_job():
    long = {str(path.relative_to(PACKAGE)): len(path.read_text().splitlines()) for path in PACKAGE.rglob("*.py")}
    assert {name: lines for name, lines in long.items() if lines > MAX_MODULE_LINES} == {}


def _upward_imports(source: str, module: str) -> list[str]:
    """The imports in ``source`` (module ``module``), at any depth, of a later stage than the module's own."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            targets = [node.module] + ([f"emotion.{alias.name}" for alias in node.names] if node.module == "emotion"
                                       else [])
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            continue
        found += [f"{module} imports {target} (line {node.lineno})" for target in targets
                  if _stage(target) is not None and _stage(target) > _stage(module)]
    return found


def test_stages_import_downward_only_even_inside_functions():
    upward = [problem for path in PACKAGE.rglob("*.py") if path.name != "__main__.py"  # the entry point is on top
              for problem in _upward_imports(path.read_text(),
                                             ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))]
    assert upward == []


def test_the_import_check_sees_an_upward_import_even_a_lazy_one():
    source = "from emotion.paths import RESULTS_DIR\n\ndef f():\n    from emotion.app.pipeline import EmotionPipeline\n"
    assert _upward_imports(source, "emotion.analysis.selection") == [
        "emotion.analysis.selection imports emotion.app.pipeline (line 4)"]
    assert _upward_imports(source, "emotion.app.webapp") == []
