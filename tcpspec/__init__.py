"""tcpspec: a formal protocol model checker with a TCP model at its heart."""

__version__ = "0.1.0"
