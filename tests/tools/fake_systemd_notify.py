#!/usr/bin/env python3
"""Plays systemd's notify socket for tests/scripts/systemd_notify_netns.sh.

Usage: fake_systemd_notify.py SOCKET_PATH OUT_FILE CLIENT_NETNS URL

Binds a datagram socket at SOCKET_PATH and appends one line per datagram to
OUT_FILE: "MSG <lines joined by |>". On the first datagram with READY=1 it
fetches URL once from CLIENT_NETNS (curl, up to 5 s: TCP retransmits cover
the first ARP) and appends "VIP_AT_READY ok|fail" before reading on, so the
VIP is probed the moment kadp says it is ready. Runs until killed.
"""
import os
import socket
import subprocess
import sys


def main() -> int:
    path, out, netns, url = sys.argv[1:5]
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    probed = False
    with open(out, "a", buffering=1) as f:
        f.write("LISTENING\n")
        while True:
            data = sock.recv(4096).decode(errors="replace")
            f.write("MSG " + data.strip("\n").replace("\n", "|") + "\n")
            if not probed and "READY=1" in data.split("\n"):
                probed = True
                r = subprocess.run(["ip", "netns", "exec", netns, "curl", "-s", "--max-time", "5", url],
                                   capture_output=True, text=True, check=False)
                ok = r.returncode == 0 and r.stdout.startswith("server ")
                f.write("VIP_AT_READY " + ("ok" if ok else "fail") + "\n")


if __name__ == "__main__":
    sys.exit(main())
