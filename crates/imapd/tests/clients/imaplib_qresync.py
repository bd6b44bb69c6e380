"""Resynchronisation with Python's imaplib (RFC 7162 QRESYNC): one client keeps
a local copy of INBOX, another changes flags, expunges and appends while the
first is away and while it is connected; the first catches up with
SELECT (QRESYNC ...) and with what the server reports, and its copy must equal
a full fetch.

Usage: imaplib_qresync.py HOST PORT USER PASSWORD
Exits non-zero (with a message) on the first unexpected answer.
"""

import imaplib
import re
import sys


def check(result, what):
    typ, data = result
    if typ != "OK":
        sys.exit(f"{what}: {typ} {data!r}")
    return data


def uids_of(text):
    """Expands a sequence set such as 3:5,9 into UIDs."""
    out = set()
    for part in text.split(","):
        if ":" in part:
            a, b = part.split(":")
            a, b = int(a), int(b)
            out.update(range(min(a, b), max(a, b) + 1))
        else:
            out.add(int(part))
    return out


FETCH_RE = re.compile(rb"\d+ \((.*)\)$")


def parse_fetch(item):
    """(uid, flags, modseq) of one FETCH response."""
    if isinstance(item, tuple):
        item = item[0]
    body = FETCH_RE.match(item).group(1).decode()
    uid = int(re.search(r"UID (\d+)", body).group(1))
    flags = frozenset(re.search(r"FLAGS \(([^)]*)\)", body).group(1).split())
    # \Recent belongs to one session (RFC 3501 2.3.2), not to the mailbox state.
    flags = flags - {"\\Recent"}
    modseq = re.search(r"MODSEQ \((\d+)\)", body)
    return uid, flags, int(modseq.group(1)) if modseq else None


def take(m, name):
    """Untagged responses of one kind received so far, then forgotten."""
    return m.untagged_responses.pop(name, [])


def apply(local, m):
    """Applies VANISHED and FETCH responses to the local copy; returns the
    highest MODSEQ seen."""
    highest = 0
    for v in take(m, "VANISHED"):
        text = v.decode()
        if text.startswith("(EARLIER) "):
            text = text[len("(EARLIER) "):]
        for uid in uids_of(text):
            local.pop(uid, None)
    for f in take(m, "FETCH"):
        if f is None:
            continue
        uid, flags, modseq = parse_fetch(f)
        local[uid] = flags
        highest = max(highest, modseq or 0)
    return highest


def full_state(m):
    data = check(m.uid("FETCH", "1:*", "(FLAGS)"), "full fetch")
    state = {}
    for item in data:
        if item is None:
            continue
        uid, flags, _ = parse_fetch(item)
        state[uid] = flags
    return state


def connect(host, port, user, password):
    m = imaplib.IMAP4(host, int(port))
    for c in ("CONDSTORE", "QRESYNC", "ENABLE"):
        if c not in m.capabilities:
            sys.exit(f"missing capability {c}: {m.capabilities}")
    check(m.login(user, password), "login")
    return m


def qresync_select(m, uidvalidity, modseq, known):
    m.untagged_responses = {}
    typ, data = m._simple_command(
        "SELECT", "INBOX", f"(QRESYNC ({uidvalidity} {modseq} {known}))"
    )
    if typ != "OK":
        sys.exit(f"select qresync: {typ} {data!r}")
    m.state = "SELECTED"


def main():
    host, port, user, password = sys.argv[1:5]
    a = connect(host, port, user, password)
    for i in range(1, 31):
        msg = f"From: n{i}@example.com\r\nSubject: note {i}\r\n\r\nbody {i}\r\n".encode()
        check(a.append("INBOX", None, None, msg), f"append {i}")
    check(a.enable("QRESYNC"), "enable")
    check(a.select("INBOX"), "select")
    uidvalidity = int(a.response("UIDVALIDITY")[1][0])
    modseq = int(a.response("HIGHESTMODSEQ")[1][0])
    local = full_state(a)
    if len(local) != 30:
        sys.exit(f"expected 30 messages, have {len(local)}")
    a.logout()

    # Another client changes the mailbox while the first is away.
    b = connect(host, port, user, password)
    check(b.select("INBOX"), "select b")
    check(b.uid("STORE", "2,4,6", "+FLAGS", r"(\Seen $Important)"), "store b")
    check(b.uid("STORE", "10:14,20", "+FLAGS.SILENT", r"(\Deleted)"), "delete b")
    check(b.expunge(), "expunge b")
    check(b.append("INBOX", r"(\Flagged)", None, b"Subject: late\r\n\r\nnew\r\n"), "append b")

    # The first resynchronises in one SELECT.
    a = connect(host, port, user, password)
    check(a.enable("QRESYNC"), "enable again")
    qresync_select(a, uidvalidity, modseq, f"1:{max(local)}")
    vanished = [v.decode() for v in a.untagged_responses.get("VANISHED", [])]
    if vanished != ["(EARLIER) 10:14,20"]:
        sys.exit(f"unexpected VANISHED: {vanished}")
    modseq = max(modseq, apply(local, a))
    if local != full_state(a):
        sys.exit(f"resync after SELECT differs:\n{sorted(local.items())}\n{sorted(full_state(a).items())}")

    # Changes while connected: VANISHED (not EXPUNGE) and FETCH with MODSEQ.
    a.untagged_responses = {}
    check(b.uid("STORE", "3", "+FLAGS", r"(\Answered)"), "store b2")
    check(b.uid("STORE", "5", "+FLAGS.SILENT", r"(\Deleted)"), "delete b2")
    check(b.expunge(), "expunge b2")
    check(a.noop(), "noop")
    if "EXPUNGE" in a.untagged_responses:
        sys.exit("EXPUNGE sent although QRESYNC is enabled")
    if [v.decode() for v in a.untagged_responses.get("VANISHED", [])] != ["5"]:
        sys.exit(f"unexpected live VANISHED: {a.untagged_responses}")
    fetches = [parse_fetch(f) for f in a.untagged_responses.get("FETCH", [])]
    if not fetches or any(f[2] is None for f in fetches):
        sys.exit(f"live FETCH without MODSEQ: {fetches}")
    modseq = max(modseq, apply(local, a))
    if local != full_state(a):
        sys.exit("live updates differ from a full fetch")

    # And with UID FETCH (CHANGEDSINCE ... VANISHED) after more changes.
    check(b.uid("STORE", "1", "+FLAGS", r"($Later)"), "store b3")
    check(b.uid("STORE", "7", "+FLAGS.SILENT", r"(\Deleted)"), "delete b3")
    check(b.expunge(), "expunge b3")
    a.untagged_responses = {}
    typ, data = a.uid("FETCH", "1:*", f"(FLAGS) (CHANGEDSINCE {modseq} VANISHED)")
    if typ != "OK":
        sys.exit(f"changedsince: {typ} {data!r}")
    earlier = [v.decode() for v in a.untagged_responses.get("VANISHED", [])]
    # The MODSEQ this client knows predates UID 5's expunge too: reporting it
    # again is allowed, leaving out UID 7 is not.
    reported = set()
    for v in earlier:
        if v.startswith("(EARLIER) "):
            reported |= uids_of(v[len("(EARLIER) "):])
    if 7 not in reported:
        sys.exit(f"UID FETCH VANISHED did not report UID 7: {earlier}")
    changed = [parse_fetch(f) for f in data if f is not None]
    if [c[0] for c in changed] != [1]:
        sys.exit(f"CHANGEDSINCE returned {changed}")
    apply(local, a)
    for uid, flags, _ in changed:
        local[uid] = flags
    if local != full_state(a):
        sys.exit("UID FETCH (CHANGEDSINCE VANISHED) differs from a full fetch")
    b.logout()
    a.logout()
    print("imaplib qresync ok")


if __name__ == "__main__":
    main()
