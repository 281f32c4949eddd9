"""What this machine can run: each probe returns None when available, else the reason why not."""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Callable
from functools import cache

__all__ = ["MARKER_PROBES", "missing"]


def _root() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, OVS, cgroups); run as root or in CI"
    return None


def _ovn() -> str | None:
    if (why := _root()) is not None:
        return why
    for tool in ("ovs-vswitchd", "ovsdb-server", "ovn-northd", "ovn-controller", "ovn-nbctl"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            return f"{tool} not found: apt-get install openvswitch-switch ovn-central ovn-host"
    return None


def postgres_bin() -> str | None:
    """The directory holding initdb/pg_ctl of the newest installed PostgreSQL."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _postgres() -> str | None:
    if postgres_bin() is None:
        return "PostgreSQL server not found: apt-get install postgresql"
    return None


def softhsm_module() -> str | None:
    """Path of the SoftHSM2 PKCS#11 module."""
    for path in (
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    ):
        if os.path.exists(path):
            return path
    return None


def _hsm() -> str | None:
    if softhsm_module() is None or shutil.which("softhsm2-util") is None:
        return "SoftHSM2 not found: apt-get install softhsm2"
    return None


def _tpm() -> str | None:
    if shutil.which("swtpm") is None:
        return "swtpm not found: apt-get install swtpm swtpm-tools"
    return None


def _ldap() -> str | None:
    if not (shutil.which("slapd") or os.path.exists("/usr/sbin/slapd")):
        return "slapd not found: apt-get install slapd ldap-utils"
    return None


def _browser() -> str | None:
    if not os.path.exists("/usr/bin/chromium"):
        return "Chromium not found: apt-get install chromium"
    return None


MARKER_PROBES: dict[str, Callable[[], str | None]] = {
    "root": _root,
    "ovn": _ovn,
    "postgres": _postgres,
    "hsm": _hsm,
    "tpm": _tpm,
    "ldap": _ldap,
    "browser": _browser,
}


@cache
def missing(marker: str) -> str | None:
    """Why tests with this marker cannot run here (None: they can)."""
    probe = MARKER_PROBES.get(marker)
    return None if probe is None else probe()
