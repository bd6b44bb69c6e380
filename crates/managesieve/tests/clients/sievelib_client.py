"""Uploads, lists, activates and downloads a script with the sievelib client.

Usage: sievelib_client.py HOST PORT USER SCRIPT_FILE  (password on stdin;
the server's certificate is trusted through SSL_CERT_FILE).
Prints one line per step; exits non-zero on the first failure.
"""

import sys

from sievelib.managesieve import Client


def main():
    host, port, user, script_file = sys.argv[1:5]
    password = sys.stdin.readline().rstrip("\n")
    with open(script_file, encoding="utf-8") as f:
        script = f.read()

    client = Client(host, int(port), srvhostname="localhost")
    if not client.connect(user, password, starttls=True, authmech="PLAIN"):
        sys.exit("connect failed: %r" % client.errmsg)
    print("implementation", client.get_implementation())
    print("extensions", " ".join(client.get_sieve_capabilities()))
    if not client.havespace("from-sievelib", len(script.encode("utf-8"))):
        sys.exit("havespace failed: %r" % client.errmsg)
    if not client.checkscript(script):
        sys.exit("checkscript failed: %r" % client.errmsg)
    if not client.putscript("from-sievelib", script):
        sys.exit("putscript failed: %r" % client.errmsg)
    if client.putscript("broken", "require \"nonexistent\";\r\n"):
        sys.exit("an invalid script was accepted")
    print("refused", client.errmsg.decode("utf-8", "replace"))
    if not client.setactive("from-sievelib"):
        sys.exit("setactive failed: %r" % client.errmsg)
    active, others = client.listscripts()
    print("active", active)
    print("others", " ".join(others))
    downloaded = client.getscript("from-sievelib")
    # sievelib joins the lines it read with "\n" and drops the last line end.
    if downloaded != script.replace("\r\n", "\n").rstrip("\n"):
        sys.exit("downloaded script differs: %r" % downloaded)
    print("downloaded", len(downloaded.splitlines()), "lines")
    if not client.renamescript("from-sievelib", "renamed"):
        sys.exit("renamescript failed: %r" % client.errmsg)
    if not client.setactive(""):
        sys.exit("deactivate failed: %r" % client.errmsg)
    if not client.deletescript("renamed"):
        sys.exit("deletescript failed: %r" % client.errmsg)
    client.logout()
    print("done")


if __name__ == "__main__":
    main()
