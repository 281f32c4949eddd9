"""CPU and memory limits for a lab guest's processes (cgroup v1, or v2 where that is mounted).

A guest is a network namespace, which holds no processes; what runs "in the guest" (its
responders, ``tenantry lab exec``) is started inside the namespace and put into the guest's
cgroup, so the limits of the estate (``cpu.limit``, ``memory.size``) bound it.
"""

from __future__ import annotations

from pathlib import Path

from tenantry.errors import BackendUnavailableError

__all__ = ["CgroupLimits", "attach", "create", "read_limits", "remove"]

_ROOT = Path("/sys/fs/cgroup")
_PERIOD_US = 100_000


class CgroupLimits:
    """Where a guest's cgroups live and what they allow."""

    def __init__(self, group: str, cpu_limit: float | None, memory_limit: int | None) -> None:
        self.group = group
        self.cpu_limit = cpu_limit
        self.memory_limit = memory_limit

    def directories(self) -> list[Path]:
        if _is_v2():
            return [_ROOT / self.group]
        return [_ROOT / "cpu" / self.group, _ROOT / "memory" / self.group]


def _is_v2() -> bool:
    return (_ROOT / "cgroup.controllers").exists()


def create(limits: CgroupLimits) -> list[Path]:
    """Create the guest's cgroups with its limits; the directories created."""
    made: list[Path] = []
    try:
        for path in limits.directories():
            path.mkdir(parents=True, exist_ok=True)
            made.append(path)
        if _is_v2():
            # The parent must hand the cpu and memory controllers down (best effort).
            subtree = _ROOT / "cgroup.subtree_control"
            if not (made[0] / "cpu.max").exists() and subtree.exists():
                subtree.write_text("+cpu +memory\n")
            cpu = "max" if limits.cpu_limit is None else _quota(limits.cpu_limit)
            (made[0] / "cpu.max").write_text(f"{cpu} {_PERIOD_US}\n")
            if limits.memory_limit is not None:
                (made[0] / "memory.max").write_text(f"{limits.memory_limit}\n")
            return made
        cpu_dir, memory_dir = made
        (cpu_dir / "cpu.cfs_period_us").write_text(f"{_PERIOD_US}\n")
        quota = "-1" if limits.cpu_limit is None else _quota(limits.cpu_limit)
        (cpu_dir / "cpu.cfs_quota_us").write_text(f"{quota}\n")
        if limits.memory_limit is not None:
            (memory_dir / "memory.limit_in_bytes").write_text(f"{limits.memory_limit}\n")
    except OSError as exc:
        raise BackendUnavailableError(
            f"cannot set cgroup limits for {limits.group}: {exc}"
        ) from exc
    return made


def attach(directories: list[Path], pid: int) -> None:
    """Put a process into the guest's cgroups."""
    for path in directories:
        (path / "cgroup.procs").write_text(f"{pid}\n")


def remove(directories: list[Path]) -> None:
    """Remove the cgroups (children first); processes still in them keep them alive."""
    for path in sorted(directories, key=lambda p: len(p.parts), reverse=True):
        try:
            path.rmdir()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise BackendUnavailableError(f"cannot remove cgroup {path}: {exc}") from exc


def read_limits(directories: list[Path]) -> dict[str, str]:
    """The limits as the kernel holds them (for ``lab status`` and tests)."""
    found: dict[str, str] = {}
    for path in directories:
        for name in ("cpu.max", "cpu.cfs_quota_us", "memory.max", "memory.limit_in_bytes"):
            if (path / name).exists():
                found[name] = (path / name).read_text().strip()
    return found


def _quota(cores: float) -> str:
    return str(max(1000, int(cores * _PERIOD_US)))
