"""The `tcpspec` command: arguments, commands, output. The only package that prints or exits."""

from tcpspec.cli.app import main

__all__ = ["main"]
