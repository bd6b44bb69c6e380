"""A full session with Python's imaplib against a running Zest IMAP server.

Usage: imaplib_session.py HOST PORT TLS_PORT CAFILE USER PASSWORD
Exits non-zero (with a message) on the first unexpected answer.
"""

import imaplib
import ssl
import sys


def check(result, what):
    typ, data = result
    if typ != "OK":
        sys.exit(f"{what}: {typ} {data!r}")
    return data


def main():
    host, port, tls_port, cafile, user, password = sys.argv[1:7]
    m = imaplib.IMAP4(host, int(port))
    caps = m.capabilities
    for c in ("IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "STARTTLS"):
        if c not in caps:
            sys.exit(f"missing capability {c}: {caps}")
    check(m.login(user, password), "login")
    boxes = check(m.list(), "list")
    names = [b.decode() for b in boxes]
    if not any(n.endswith(' INBOX') for n in names):
        sys.exit(f"no INBOX in {names}")
    check(m.create("Reports"), "create")
    msg = (
        b"From: Ann <ann@example.com>\r\nTo: alice@example.org\r\n"
        b"Subject: Quarterly report\r\nDate: Wed, 1 Mar 2023 10:00:00 +0100\r\n\r\n"
        b"Numbers are up.\r\n"
    )
    typ, data = m.append("INBOX", r"(\Flagged $Forwarded)", imaplib.Time2Internaldate(1677661200), msg)
    if typ != "OK" or b"APPENDUID" not in data[0]:
        sys.exit(f"append: {typ} {data!r}")
    check(m.append("INBOX", None, None, msg.replace(b"Quarterly", b"Annual")), "append 2")
    typ, data = m.select("INBOX")
    if typ != "OK" or data != [b"2"]:
        sys.exit(f"select: {typ} {data!r}")
    data = check(m.search(None, "SUBJECT", "quarterly"), "search")
    if data != [b"1"]:
        sys.exit(f"search: {data!r}")
    data = check(m.uid("SEARCH", None, "KEYWORD", "$Forwarded"), "uid search")
    if data != [b"1"]:
        sys.exit(f"uid search: {data!r}")
    data = check(m.fetch("1", "(FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), "fetch")
    header = data[0][1]
    if header != b"Subject: Quarterly report\r\n\r\n":
        sys.exit(f"fetch header: {data!r}")
    data = check(m.fetch("2", "(RFC822)"), "fetch body")
    if data[0][1] != msg.replace(b"Quarterly", b"Annual"):
        sys.exit(f"fetch body: {data!r}")
    data = check(m.fetch("2", "(FLAGS)"), "fetch flags")
    if b"\\Seen" not in data[0]:
        sys.exit(f"RFC822 did not set \\Seen: {data!r}")
    check(m.store("1", "+FLAGS", r"(\Deleted)"), "store")
    typ, data = m.copy("2", "Reports")
    if typ != "OK":
        sys.exit(f"copy: {typ} {data!r}")
    typ, data = m.uid("MOVE", "2", "Reports")
    if typ != "OK":
        sys.exit(f"move: {typ} {data!r}")
    data = check(m.expunge(), "expunge")
    check(m.status("Reports", "(MESSAGES UNSEEN)"), "status")
    data = check(m.status("Reports", "(MESSAGES)"), "status")
    if b"MESSAGES 2" not in data[0]:
        sys.exit(f"status: {data!r}")
    typ, data = m.select("INBOX")
    if data != [b"0"]:
        sys.exit(f"INBOX after move and expunge: {data!r}")
    check(m.close(), "close")
    m.logout()

    ctx = ssl.create_default_context(cafile=cafile)
    s = imaplib.IMAP4_SSL(host, int(tls_port), ssl_context=ctx)
    check(s.login(user, password), "tls login")
    typ, data = s.select("Reports", readonly=True)
    if data != [b"2"]:
        sys.exit(f"tls select: {data!r}")
    s.logout()
    print("imaplib session ok")


if __name__ == "__main__":
    main()
