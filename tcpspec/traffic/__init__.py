"""Real traffic against the model: captures read, segments observed, the model configured and followed (`tcpspec replay`)."""
