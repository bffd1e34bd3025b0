"""Child servers for the commands that start them (`demo`, `dashboard`), and free ports."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port (checked the way servers bind)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # Servers set SO_REUSEADDR too, so a port in TIME_WAIT counts as free, as it is.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The status code `url` answers with, or None when nothing answers."""
    try:
        return httpx.get(url, timeout=timeout).status_code
    except httpx.HTTPError:
        return None


def wait_until(
    ready: Callable[[], bool], give_up: Callable[[], bool], timeout: float, interval: float = 0.25
) -> bool:
    """Poll `ready` until it holds (True), `give_up` holds or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return True
        if give_up():
            return False
        time.sleep(interval)
    return ready()


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> int:
    """SIGTERM, then SIGKILL if it has not exited within `grace` seconds; its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a text file (to show why a child failed)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class ChildSpec:
    """A server to run as a child: ready once `ready_url` answers (with 200 if `strict`)."""

    name: str
    command: Sequence[str]
    ready_url: str
    cwd: Path | None = None
    strict: bool = True


class ChildGroup:
    """Children started together, each logging to `<log_dir>/<name>.log`, stopped together
    (last started, first stopped) when the `with` block ends."""

    def __init__(self, specs: Sequence[ChildSpec], env: Mapping[str, str], log_dir: Path) -> None:
        self.specs = list(specs)
        self.env = dict(env)
        self.log_dir = log_dir
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name.lower()}.log"

    def __enter__(self) -> ChildGroup:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            for spec in self.specs:
                with self.log_path(spec.name).open("wb") as log:
                    self._processes[spec.name] = subprocess.Popen(
                        list(spec.command),
                        env=self.env,
                        cwd=spec.cwd,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        for process in reversed(self._processes.values()):
            stop_process(process)

    def exited(self) -> str | None:
        """The name of a child that is no longer running, if any."""
        return next((n for n, p in self._processes.items() if p.poll() is not None), None)

    def not_answering(self) -> list[str]:
        """The names of the children whose ready URL does not answer (as required) yet."""
        late = []
        for spec in self.specs:
            status = http_status(spec.ready_url)
            if status is None or (spec.strict and status != 200):
                late.append(spec.name)
        return late
