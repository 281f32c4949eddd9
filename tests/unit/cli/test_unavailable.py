"""A command whose optional extra is missing explains what to install instead of crashing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tenantry.cli import app
from tenantry.cli.unavailable import register_unavailable

SRC = Path(__file__).resolve().parents[3] / "src"

BLOCKED = """
import importlib.abc, runpy, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {"pyroute2", "scapy", "ovsdbapp", "ovs"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
sys.argv = ["tenantry", *sys.argv[1:]]
runpy.run_module("tenantry", run_name="__main__")
"""


def test_missing_extra_exits_9_with_what_to_install() -> None:
    """The stand-in command names the package and the extra."""
    register_unavailable({"frobnicate": "test"}, missing="frob", extra="frob")
    result = CliRunner().invoke(app, ["frobnicate", "--anything"])
    assert result.exit_code == 9
    assert "'frob'" in result.output
    assert "tenantry[frob]" in result.output


def test_core_install_still_starts_without_the_lab_extras() -> None:
    """Without pyroute2/scapy/ovsdbapp the CLI starts; `lab up` says what is missing."""
    help_text = subprocess.run(
        [sys.executable, "-c", BLOCKED, "--help"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC)},
        check=False,
    )
    assert help_text.returncode == 0, help_text.stderr
    lab = subprocess.run(
        [sys.executable, "-c", BLOCKED, "lab", "up"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC)},
        check=False,
    )
    assert lab.returncode == 9
    assert "tenantry[lab,ovn]" in lab.stderr


def test_verify_on_ovn_without_the_ovn_extra_says_what_to_install() -> None:
    """`verify --backend ovn` without ovsdbapp exits 9 naming the extra; plain verify works."""
    demo = str(SRC.parent / "examples" / "specs" / "demo.yaml")
    args = [sys.executable, "-c", BLOCKED, "verify", "--spec", demo]
    env = {"PYTHONPATH": str(SRC)}
    on_ovn = subprocess.run(
        [*args, "--backend", "ovn"], capture_output=True, text=True, env=env, check=False
    )
    assert on_ovn.returncode == 9, on_ovn.stderr
    assert "tenantry[ovn]" in on_ovn.stderr
    plain = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert plain.returncode == 0, plain.stderr
