"""Asking the solver: budgets, Ctrl-C, queries, and the symmetry Z3 verifies. The engines and the
proof certificates' re-check both stand on it; it knows neither."""
