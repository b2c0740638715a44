"""The vocabulary every layer shares: positions and errors, run options, types, results, traces, bounded file I/O. No z3, no lark."""
