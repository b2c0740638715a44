"""Capture a real TCP connection on 127.0.0.1 with tcpdump: connect, request, reply, close.

    python traces/capture_loopback.py OUT.pcap [--linger-close]

The client sends 5 octets, the server answers 5 and closes; then the client closes. Needs
tcpdump and the right to capture on `lo` (root, or CAP_NET_RAW). Used by tests/test_replay.py.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time


def capture(out: str) -> None:
    tcpdump = shutil.which("tcpdump")
    if tcpdump is None:
        raise SystemExit("tcpdump not found")
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    dump = subprocess.Popen([tcpdump, "-i", "lo", "-U", "-w", out, "-s", "256", f"tcp port {port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # tcpdump is listening

    def serve() -> None:
        conn, _ = srv.accept()
        data = conn.recv(100)
        conn.sendall(data.upper())
        time.sleep(0.2)
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    cli = socket.create_connection(("127.0.0.1", port))
    cli.sendall(b"hello")
    cli.recv(100)
    time.sleep(0.3)  # the server's FIN arrives
    cli.close()
    t.join()
    srv.close()
    time.sleep(1.0)
    dump.terminate()
    dump.wait(timeout=10)


if __name__ == "__main__":
    capture(sys.argv[1])
