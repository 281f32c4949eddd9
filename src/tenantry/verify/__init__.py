"""Proofs of isolation over what is actually enforced, with counterexample packets."""
