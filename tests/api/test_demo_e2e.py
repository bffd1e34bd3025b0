"""`dealscope demo` end to end: a real process that generates, serves and stops on SIGTERM."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

DEALSCOPE = Path(sys.executable).parent / "dealscope"
READY_LINE = "Press Ctrl-C to stop."
STARTUP_SECONDS = 150


class DemoRun:
    """A `dealscope demo` child whose output is collected line by line."""

    def __init__(self, data_dir: Path, api_port: int, dashboard_port: int) -> None:
        env = os.environ | {"DEALSCOPE_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [str(DEALSCOPE), "demo", "--leads", "2000", "--seed", "7",
             "--api-port", str(api_port), "--dashboard-port", str(dashboard_port)],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,  # its own group, so cleanup can reach its children
        )  # fmt: skip
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no {text!r} within {timeout} s; output so far:\n{self.output}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self.process.wait()
                pytest.fail(f"demo exited ({self.process.returncode}) early:\n{self.output}")
            self.lines.append(line)

    def url(self, label: str) -> str:
        match = re.search(rf"^{label}\s+(http://\S+)", self.output, re.MULTILINE)
        assert match, f"no {label} URL in:\n{self.output}"
        return match.group(1)

    def terminate(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.wait_for("Stopping the dashboard and the API", timeout=5)
        return code

    def kill_everything(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def start_demo(tmp_path: Path, free_port: Callable[[], int]) -> Iterator[Callable[[], DemoRun]]:
    runs: list[DemoRun] = []

    def start() -> DemoRun:
        runs.append(DemoRun(tmp_path / "data", free_port(), free_port()))
        return runs[-1]

    yield start
    for run in runs:
        run.kill_everything()


def test_demo_serves_the_api_and_dashboard_and_stops_cleanly(
    start_demo: Callable[[], DemoRun],
) -> None:
    demo = start_demo()
    demo.wait_for(READY_LINE, STARTUP_SECONDS)
    assert "Generating the demo brokerage (2,000 leads, seed 7)" in demo.output
    for role in ("admin", "manager", "analyst", "agent", "viewer"):
        assert re.search(rf"│ \S+@\S+ +│ \S+ +│ {role} +│", demo.output), role

    health = httpx.get(demo.url("Health"), timeout=10)
    assert health.status_code == 200
    assert (health.json()["status"], health.json()["backend"]) == ("ok", "duckdb")
    assert httpx.get(demo.url("API docs"), timeout=10).status_code == 200
    page = httpx.get(demo.url("Dashboard"), timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<div id="root">' in page.text
    stcore = httpx.get(f"{demo.url('Dashboard')}/_stcore/health", timeout=10)
    assert (stcore.status_code, stcore.text) == (200, "ok")

    assert demo.terminate() == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(demo.url("Health"), timeout=5)
    with pytest.raises(httpx.ConnectError):
        httpx.get(demo.url("Dashboard"), timeout=5)

    again = start_demo()
    again.wait_for(READY_LINE, STARTUP_SECONDS)
    assert "The demo tenant already exists" in again.output
    assert "Generating the demo brokerage" not in again.output
    assert httpx.get(again.url("Health"), timeout=10).json()["status"] == "ok"
    assert again.terminate() == 0
