"""COMPRESS=DEFLATE (RFC 4978) with Python's zlib as the client's deflate:
optionally STARTTLS first, then LOGIN, COMPRESS DEFLATE, SELECT, a refused
second COMPRESS, and IDLE. When idling it prints IDLING; the caller then
delivers a message, whose EXISTS must arrive (compressed, flushed) while
the client sends nothing.

Usage: compress_idle.py HOST PORT USER PASSWORD (plain|starttls) [CERT]
Exits non-zero (with a message) on the first unexpected answer.
"""

import socket
import ssl
import sys
import time
import zlib


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.comp = None
        self.decomp = None

    def start_deflate(self):
        # Raw deflate: negative window bits, no zlib header (RFC 4978 2).
        self.comp = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        self.decomp = zlib.decompressobj(-15)
        if self.buf:
            pending, self.buf = self.buf, b""
            self.buf = self.decomp.decompress(pending)

    def send(self, line):
        data = line.encode() + b"\r\n"
        if self.comp:
            data = self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                sys.exit(f"connection closed; buffered {self.buf!r}")
            if self.decomp:
                chunk = self.decomp.decompress(chunk)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def cmd(self, tag, text):
        self.send(f"{tag} {text}")
        lines = []
        while True:
            l = self.line()
            lines.append(l)
            if l.startswith(tag + " "):
                return lines


def expect(lines, prefix, what):
    if not lines[-1].startswith(prefix):
        sys.exit(f"{what}: {lines!r}")


def main():
    host, port, user, password, mode = sys.argv[1:6]
    sock = socket.create_connection((host, int(port)), timeout=20)
    c = Conn(sock)
    c.line()
    if mode == "starttls":
        expect(c.cmd("t1", "STARTTLS"), "t1 OK", "STARTTLS")
        ctx = ssl.create_default_context(cafile=sys.argv[6])
        c.sock = ctx.wrap_socket(sock, server_hostname="localhost")
    r = c.cmd("a1", f"LOGIN {user} {password}")
    expect(r, "a1 OK", "LOGIN")
    if "COMPRESS=DEFLATE" not in r[-1]:
        sys.exit(f"COMPRESS=DEFLATE not advertised: {r!r}")
    expect(c.cmd("a2", "COMPRESS DEFLATE"), "a2 OK", "COMPRESS")
    c.start_deflate()
    expect(c.cmd("a3", "SELECT INBOX"), "a3 OK", "SELECT")
    expect(c.cmd("a4", "COMPRESS DEFLATE"), "a4 NO [COMPRESSIONACTIVE]", "second COMPRESS")
    # A large answer goes through the compressed stream too.
    expect(c.cmd("a5", "LIST \"\" *"), "a5 OK", "LIST")
    c.send("a6 IDLE")
    cont = c.line()
    if not cont.startswith("+"):
        sys.exit(f"IDLE: {cont!r}")
    print("IDLING", flush=True)
    start = time.monotonic()
    while True:
        l = c.line()
        if l.endswith(" EXISTS"):
            break
    elapsed = time.monotonic() - start
    c.send("DONE")
    while True:
        l = c.line()
        if l.startswith("a6 "):
            break
    if not l.startswith("a6 OK"):
        sys.exit(f"DONE: {l!r}")
    r = c.cmd("a7", "LOGOUT")
    expect(r, "a7 OK", "LOGOUT")
    print(f"EXISTS after {elapsed * 1000:.1f} ms", flush=True)
    print("compress idle ok", flush=True)


main()
