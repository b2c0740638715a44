"""The exit codes of `tcpspec`: a contract CI scripts rely on, so every command takes them from here.

0 every selected property holds (to the bound, for bounded engines), 1 a property is violated or a
`reachable` target was not reached, 2 bad model or bad usage, 3 unknown (timeout, solver gave up),
4 internal error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM); both still report what had
finished.
"""

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNKNOWN, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_BROKEN_PIPE = 141  # as a shell reports a process ended by SIGPIPE
EXIT_TERMINATED = 143  # SIGTERM, as a shell reports it; the finished results are reported as for 130
