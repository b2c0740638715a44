"""Translations of a checked model for other tools: Promela (SPIN) and SMT-LIB 2."""
