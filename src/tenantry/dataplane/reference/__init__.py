"""The reference data plane: the embedded default and the executable definition of the semantics."""
