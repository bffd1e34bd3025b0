"""`dealscope dashboard` becomes Streamlit on the given port and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from dealscope.kit.processes import http_status, wait_until

DEALSCOPE = Path(sys.executable).parent / "dealscope"


def test_dashboard_command_serves_streamlit_and_stops_on_sigterm(
    free_port: Callable[[], int],
) -> None:
    port, api_port = free_port(), free_port()
    process = subprocess.Popen(
        [str(DEALSCOPE), "dashboard", "--port", str(port), "--api-url",
         f"http://127.0.0.1:{api_port}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        health = f"http://127.0.0.1:{port}/_stcore/health"
        started = wait_until(lambda: http_status(health) == 200, lambda: False, timeout=60)
        assert started, "the dashboard did not answer within 60 s"
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200
        assert '<div id="root">' in page.text

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert process.returncode == 0, output
    assert output.startswith(
        f"Dashboard on http://127.0.0.1:{port}, reading the API at http://127.0.0.1:{api_port}"
    )
    assert http_status(health) is None
