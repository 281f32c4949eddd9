"""Policies and tags to per-host programs: pure, columnar, incremental."""
