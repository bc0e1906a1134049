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
