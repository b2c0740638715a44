"""The version of tcpspec, in a module of its own: the reports, the proof cache and the language
server name it without importing the package's public API (tcpspec/__init__.py imports it lazily)."""

__version__ = "0.1.0"
