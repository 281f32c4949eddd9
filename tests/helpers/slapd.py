"""A throwaway OpenLDAP slapd on a loopback port, configured by a generated slapd.conf."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ldap3 import MODIFY_ADD, MODIFY_DELETE, Connection, Server

from tests.helpers.server import free_port

__all__ = ["BASE", "Directory", "throwaway_slapd"]

BASE = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PASSWORD = "slapd-root-secret"

_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {run}/slapd.pid
argsfile {run}/slapd.args
database mdb
suffix "{base}"
rootdn "{root}"
rootpw {password}
directory {run}/db
maxsize 10485760
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"""


@dataclass
class Directory:
    """A running slapd: its URL, and an admin connection to shape its tree."""

    url: str
    admin: Connection

    def add_user(self, uid: str, password: str) -> str:
        dn = f"uid={uid},ou=people,{BASE}"
        self.admin.add(
            dn,
            ["inetOrgPerson"],
            {"cn": uid, "sn": uid, "uid": uid, "userPassword": password},
        )
        return dn

    def add_group(self, cn: str, members: list[str]) -> None:
        # groupOfNames needs a member at all times: a placeholder keeps emptied groups valid.
        self.admin.add(
            f"cn={cn},ou=groups,{BASE}",
            ["groupOfNames"],
            {"cn": cn, "member": [*members, f"cn=placeholder,{BASE}"]},
        )

    def remove_member(self, cn: str, member: str) -> None:
        changed = self.admin.modify(
            f"cn={cn},ou=groups,{BASE}", {"member": [(MODIFY_DELETE, [member])]}
        )
        assert changed, self.admin.result

    def add_member(self, cn: str, member: str) -> None:
        changed = self.admin.modify(
            f"cn={cn},ou=groups,{BASE}", {"member": [(MODIFY_ADD, [member])]}
        )
        assert changed, self.admin.result


def _slapd() -> str:
    return shutil.which("slapd") or "/usr/sbin/slapd"


@contextmanager
def throwaway_slapd(run: Path) -> Iterator[Directory]:
    """Start slapd under ``run`` with an empty ``dc=example,dc=org``; stop and forget it after."""
    (run / "db").mkdir(parents=True)
    conf = run / "slapd.conf"
    conf.write_text(_CONF.format(run=run, base=BASE, root=ROOT_DN, password=ROOT_PASSWORD))
    url = f"ldap://127.0.0.1:{free_port()}"
    log = (run / "slapd.log").open("wb")
    process = subprocess.Popen(
        [_slapd(), "-f", str(conf), "-h", f"{url}/", "-d", "0"], stdout=log, stderr=log
    )
    try:
        admin = _connect(url, process, run)
        admin.add(BASE, ["dcObject", "organization"], {"dc": "example", "o": "Example"})
        for unit in ("people", "groups"):
            admin.add(f"ou={unit},{BASE}", ["organizationalUnit"], {"ou": unit})
        yield Directory(url, admin)
        admin.unbind()
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _connect(url: str, process: subprocess.Popen[bytes], run: Path) -> Connection:
    host, port = url.removeprefix("ldap://").split(":")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slapd exited: {(run / 'slapd.log').read_text()[-2000:]}")
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
        except OSError:
            time.sleep(0.1)
            continue
        connection = Connection(Server(url), user=ROOT_DN, password=ROOT_PASSWORD)
        if connection.bind():
            return connection
        connection.unbind()
    raise RuntimeError("slapd did not come up")
