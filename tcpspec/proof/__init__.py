"""Proof certificates: written by the prover, re-checked by a fresh solver, kept in a cache that cannot change a verdict."""
