"""Solver-backed analyses other than property checking: differences between models, a process's state machine."""
