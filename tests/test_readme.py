"""The README tells the truth about the commands and the permission table."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.permissions import markdown_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_permission_table_is_the_one_the_gateway_enforces():
    block = re.search(
        r"<!-- permissions:start.*?-->\n(.*?)<!-- permissions:end -->", README, re.S
    )
    assert block, "permission table markers missing from README"
    assert block.group(1).strip() == markdown_table().strip()


def test_quick_start_is_the_two_make_commands_and_ci_runs_the_same_test_command():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make \w+", quick, re.M)
    assert commands == ["make run", "make test"]
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("make test")
