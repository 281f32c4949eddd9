"""Enforcement backends that obey one contract (docs/semantics.md)."""
