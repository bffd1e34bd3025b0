"""The house tooling runs as part of the tests: ruff (lint and format), mypy, import-linter.

Each tool runs from the virtualenv that runs pytest, in the repository root, with the
configuration in pyproject.toml; a failure shows the tool's own output.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

CHECKS = {
    "ruff-lint": ["ruff", "check", "src", "tests"],
    "ruff-format": ["ruff", "format", "--check", "src", "tests"],
    "mypy": ["mypy"],
    "import-linter": ["lint-imports"],
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_tool_passes(name: str) -> None:
    tool, *args = CHECKS[name]
    executable = BIN / tool
    assert executable.exists(), f"{tool} is not installed in {BIN}; pip install -e '.[test]'"

    result = subprocess.run(
        [str(executable), *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )

    assert result.returncode == 0, (
        f"{' '.join([tool, *args])} failed:\n{result.stdout}{result.stderr}"
    )
