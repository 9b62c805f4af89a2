#!/usr/bin/env python3
"""Stands in for Zpark on its unix socket for a few requests and records what nginx sends.

usage: record_upstream.py SOCKET OUT_PREFIX COUNT
Listens on SOCKET (mode 0660, like Zpark's), writes the head of request N (request line and
headers, as received) to OUT_PREFIX.N, answers each with a small JSON 200 and
`Connection: close` (so nginx keeps no connection to it), then removes the socket and exits.
Gives up after 20 s.
"""
import os
import socket
import sys


def main():
    path, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o660)
    srv.listen(8)
    srv.settimeout(20)
    try:
        for n in range(1, count + 1):
            conn, _ = srv.accept()
            conn.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                head += chunk
            with open(f"{prefix}.{n}", "wb") as f:
                f.write(head.split(b"\r\n\r\n", 1)[0] + b"\r\n")
            body = b'{"recorded": true}'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            conn.close()
    finally:
        srv.close()
        os.unlink(path)


if __name__ == "__main__":
    main()
