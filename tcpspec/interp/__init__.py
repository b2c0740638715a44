"""The concrete semantics of a checked model: every counterexample is replayed here before it is reported."""
