"""Syntax to a checked model: names resolved, types checked, processes instantiated, into `checker.ir`."""
