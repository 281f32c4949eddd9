"""One OVS/OVN daemon: how it is started, where its pidfile is, whether it still runs.

Daemons detach (``--detach``) and write a pidfile, as ``ovs-ctl``/``ovn-ctl`` do, but every path
is under a run directory we choose, so several deployments can coexist with the system's own.
``ovs-vswitchd`` runs under its monitor (``--monitor``): the monitor restarts it after a crash,
and the pidfile then names a new process, which is how a crash shows up in :func:`pid_changes`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tenantry.errors import BackendUnavailableError

__all__ = ["Daemon", "run_tool"]

_TOOL_TIMEOUT = 30.0


def run_tool(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    netns: str | None = None,
    timeout: float = _TOOL_TIMEOUT,
    check: bool = True,
    stdin: str | None = None,
) -> str:
    """Run an OVS/OVN command-line tool (optionally inside a network namespace); its stdout."""
    full = [*_netns_prefix(netns), *argv]
    try:
        done = subprocess.run(
            full,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=stdin,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackendUnavailableError(f"{argv[0]}: could not run ({exc})") from exc
    if check and done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        last = detail[-1][:400] if detail else f"exit status {done.returncode}"
        raise BackendUnavailableError(f"{' '.join(argv[:3])}: {last}")
    return done.stdout


def _netns_prefix(netns: str | None) -> list[str]:
    return [] if netns is None else ["ip", "netns", "exec", netns]


@dataclass(frozen=True)
class Daemon:
    """A long-running OVS/OVN process started detached with its own pidfile and log."""

    name: str
    argv: tuple[str, ...]
    pidfile: Path
    logfile: Path
    netns: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)

    def start(self) -> int:
        """Start it detached and wait for its pidfile; its pid."""
        argv = [
            *self.argv,
            "--detach",
            "--no-chdir",
            f"--pidfile={self.pidfile}",
            f"--log-file={self.logfile}",
        ]
        run_tool(argv, env=self.env, netns=self.netns)
        pid = self._wait_for_pid()
        if pid is None:
            raise BackendUnavailableError(
                f"{self.name} did not start (no pidfile {self.pidfile}); see {self.logfile}"
            )
        return pid

    def pid(self) -> int | None:
        """The pid its pidfile names, if that process is alive."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def monitor_pid(self) -> int | None:
        """For a daemon under ``--monitor``: the monitor's pid (the daemon's parent)."""
        pid = self.pid()
        if pid is None:
            return None
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        return parent if parent > 1 and _alive(parent) else None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop it (its monitor first, so that it is not restarted); idempotent."""
        for pid in (self.monitor_pid(), self.pid()):
            if pid is not None:
                _terminate(pid, timeout)
        self.pidfile.unlink(missing_ok=True)

    def _wait_for_pid(self, timeout: float = 10.0) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.pid()
            if pid is not None:
                return pid
            time.sleep(0.05)
        return None


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # A zombie has exited; only its parent has not reaped it yet.
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _terminate(pid: int, timeout: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
