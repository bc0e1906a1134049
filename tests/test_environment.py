"""Set-up files agree with each other: environment.yml pins = requirements.lock, make help lists every target."""

from __future__ import annotations

import re
import subprocess

from emotion.paths import PROJECT_ROOT


def pins(lines):
    found = {}
    for line in lines:
        match = re.match(r"^\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", line)
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def test_environment_yml_pins_agree_with_the_lock():
    environment = (PROJECT_ROOT / "environment.yml").read_text().splitlines()
    lock = pins((PROJECT_ROOT / "requirements.lock").read_text().splitlines())
    listed = pins(line for line in environment if "==" in line)
    assert len(listed) >= 15
    mismatched = {name: (version, lock.get(name)) for name, version in listed.items() if lock.get(name) != version}
    assert not mismatched, f"environment.yml and requirements.lock disagree (yml, lock): {mismatched}"
    assert "python=3.11" in "\n".join(environment)
    for line in environment:
        if "==" in line:
            assert "#" in line, f"environment.yml: every dependency needs a one-line comment saying why: {line!r}"


def test_make_help_lists_every_target_with_a_description():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-zA-Z_-]+):", makefile, flags=re.MULTILINE))
    output = subprocess.run(["make", "--no-print-directory", "help"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, check=True).stdout
    listed = {line.split()[0] for line in output.splitlines() if line.strip()}
    assert {"setup", "figures", "test", "smoke", "check-data"} <= listed
    assert listed == targets, f"targets without a '## description': {targets - listed}"


def test_make_train_retrains_every_released_model_with_its_recipe():
    """`make train` is the promise that every release in results/ can be made again: each full-mode
    results/03_train_<name>.json needs a line of the train target with the same model, epochs, precision and name."""
    import json

    makefile = (PROJECT_ROOT / "Makefile").read_text()
    target = re.search(r"^train:.*?\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert target, "the Makefile has no train target"
    lines = target.group(1).splitlines()
    releases = sorted((PROJECT_ROOT / "results").glob("03_train_*.json"))
    assert releases, "no released model in results/"
    for path in releases:
        document = json.loads(path.read_text())
        if document["meta"].get("mode") != "full":
            continue
        recipe, name = document["recipe"], path.stem.removeprefix("03_train_")
        matching = [line for line in lines
                    if f"--model {recipe['model']} " in line and f"--epochs {recipe['epochs']} " in line
                    and ("--mixed-precision" in line) == bool(recipe.get("mixed_precision"))
                    and (name == recipe["model"] or f"--name {name}" in line)]
        assert matching, (f"{path.name}: no `make train` line retrains {name} ({recipe['model']}, "
                          f"{recipe['epochs']} epochs)")
