"""A second real client, Python's standard library, for the login commands
curl does not send when a server offers SASL: POP3 USER/PASS, IMAP LOGIN, and
several attempts on one connection (as a password guesser does).

usage: pyclient.py PROTO HOST USER PASSWORD [USER PASSWORD ...]
Tries each pair in order on ONE connection and prints a JSON list with
"success" or "failure" per attempt (as the server answered). Exit status 0
when every attempt got an answer, 3 on any other error.
"""

import ftplib
import imaplib
import json
import poplib
import smtplib
import sys

TIMEOUT = 10


def pop3(host, pairs):
    out = []
    c = poplib.POP3(host, 110, timeout=TIMEOUT)
    try:
        for user, password in pairs:
            try:
                c.user(user)
                c.pass_(password)
                out.append("success")
                c.stat()
                break                 # logged in: no more attempts possible
            except poplib.error_proto:
                out.append("failure")
    finally:
        c.quit()
    return out


def imap(host, pairs):
    out = []
    c = imaplib.IMAP4(host, 143, timeout=TIMEOUT)
    try:
        for user, password in pairs:
            try:
                c.login(user, password)
                out.append("success")
                c.select("INBOX", readonly=True)
                break
            except imaplib.IMAP4.error:
                out.append("failure")
    finally:
        c.logout()
    return out


def ftp(host, pairs):
    out = []
    c = ftplib.FTP(timeout=TIMEOUT)
    c.connect(host, 21)
    try:
        for user, password in pairs:
            try:
                c.login(user, password)
                out.append("success")
                c.pwd()
                break
            except ftplib.error_perm:
                out.append("failure")
    finally:
        c.quit()
    return out


def smtp(host, pairs):
    out = []
    c = smtplib.SMTP(host, 25, local_hostname="client.trawl.test", timeout=TIMEOUT)
    try:
        c.ehlo()
        for user, password in pairs:
            c.user, c.password = user, password
            try:
                # AUTH LOGIN explicitly (smtplib would pick PLAIN first).
                c.auth("LOGIN", c.auth_login, initial_response_ok=False)
                out.append("success")
                break
            except smtplib.SMTPAuthenticationError:
                out.append("failure")
    finally:
        c.quit()
    return out


def main():
    if len(sys.argv) < 5 or (len(sys.argv) - 3) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    proto, host = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    pairs = list(zip(rest[0::2], rest[1::2]))
    fn = {"pop3": pop3, "imap": imap, "ftp": ftp, "smtp": smtp}[proto]
    try:
        print(json.dumps(fn(host, pairs)))
    except Exception as e:  # the orchestrator reports it
        print(f"pyclient {proto}: {type(e).__name__}: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
