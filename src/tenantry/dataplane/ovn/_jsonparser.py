"""Use the C JSON parser of the Open vSwitch Python library when only the system has it.

The ``ovs`` package from PyPI is pure Python; parsing the Northbound's update messages then
dominates bulk writes (several seconds for a few thousand rows). Debian's python3-openvswitch
ships the same library's C parser (``ovs._json``) built for the system's CPython; when the
running interpreter has the same ABI, the parser is loaded from there. Otherwise nothing
changes (the pure-Python parser is correct, only slower).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import ovs.json

__all__ = ["use_c_parser"]

_SYSTEM = Path("/usr/lib/python3/dist-packages/ovs")


def use_c_parser() -> bool:
    """Switch ovs.json to the C parser if one is loadable; whether the C parser is in use."""
    if ovs.json.PARSER == ovs.json.PARSER_C:
        return True
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = _SYSTEM / f"_json{suffix}"
        if not candidate.exists():
            continue
        spec = importlib.util.spec_from_file_location("ovs._json", candidate)
        if spec is None or spec.loader is None:
            continue
        try:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        except (ImportError, OSError):
            continue
        sys.modules["ovs._json"] = module
        ovs._json = module
        # ovs.json refers to "ovs._json" through a global bound only by its own import.
        vars(ovs.json)["ovs"] = sys.modules["ovs"]
        ovs.json.PARSER = ovs.json.PARSER_C
        return True
    return False
