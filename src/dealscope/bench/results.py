"""A benchmark result as JSON: name, figures and the machine it ran on."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dealscope


def machine_info() -> dict[str, Any]:
    """What the figures depend on: CPU, cores, memory, Python and key library versions."""
    import duckdb
    import numpy
    import pyarrow

    memory = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text().splitlines()[0].split()
        memory = round(int(first[1]) / 1024 / 1024, 1)
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "dealscope": dealscope.__version__,
        "git_commit": _git_commit(),
        "duckdb": duckdb.__version__,
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).parent,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


@dataclass
class BenchResult:
    name: str
    figures: dict[str, Any]
    started_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())
    machine: dict[str, Any] = field(default_factory=machine_info)

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        stamp = self.started_at.replace(":", "").replace("-", "")[:15]
        path = directory / f"{self.name}-{stamp}.json"
        path.write_text(
            json.dumps(
                {
                    "name": self.name,
                    "started_at": self.started_at,
                    "figures": self.figures,
                    "machine": self.machine,
                },
                indent=2,
                default=str,
            )
            + "\n"
        )
        return path
