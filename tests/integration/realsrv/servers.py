"""Real servers (dovecot, postfix, vsftpd, nginx, sshd) started in the server
namespace, each with a config written into the test's work directory. Nothing
in /etc is written; the only system policy used is Debian's PAM stack for
vsftpd (/etc/pam.d/vsftpd, read as installed).

vsftpd and sshd authenticate local accounts, so the test user must exist in
/etc/passwd and /etc/shadow as those daemons see them. Rather than adding a
user to the machine, both daemons run in a private mount namespace (unshare
-m, private propagation) where copies of passwd and shadow with the test
user appended are bind-mounted over the real ones: nothing on the host
changes, and nothing is left behind if the test is killed.
"""

import os
import pwd

from .lab import SERVER_IP, run

# Names no real machine is likely to have: the host's own accounts must not
# answer for them (checked in missing_prerequisites).
GOOD_USER = "trawlalice"
GOOD_PASS = "Tr4wl-alice-pw"
UNKNOWN_USER = "trawlmallory"

PORTS = {"pop3": 110, "imap": 143, "smtp": 25, "ftp": 21, "http": 80, "ssh": 22}

REQUIRED_TOOLS = {
    "dovecot": "/usr/sbin/dovecot",
    "postfix": "/usr/sbin/postfix",
    "postfix master": "/usr/lib/postfix/sbin/master",
    "vsftpd": "/usr/sbin/vsftpd",
    "nginx": "/usr/sbin/nginx",
    "sshd": "/usr/sbin/sshd",
    "ssh-keygen": "/usr/bin/ssh-keygen",
    "openssl": "/usr/bin/openssl",
    "unshare": "/usr/bin/unshare",
    "tcpdump": "/usr/bin/tcpdump",
}
SYSTEM_USERS = ("dovecot", "dovenull", "postfix", "sshd", "www-data", "nobody")


def missing_prerequisites():
    missing = [f"{name} ({path})" for name, path in REQUIRED_TOOLS.items()
               if not os.access(path, os.X_OK)]
    for u in SYSTEM_USERS:
        try:
            pwd.getpwnam(u)
        except KeyError:
            missing.append(f"system user {u}")
    for name in (GOOD_USER, UNKNOWN_USER):
        try:
            pwd.getpwnam(name)
            missing.append(f"(the host has a user named {name}; the test needs that name free)")
        except KeyError:
            pass
    return missing


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def openssl_passwd(kind, password):
    return run(["openssl", "passwd", kind, "-stdin"], input=password + "\n").stdout.strip()


class Servers:
    def __init__(self, lab, workdir):
        self.lab = lab
        self.w = workdir
        self.procs = {}

    def path(self, *parts):
        return os.path.join(self.w, *parts)

    # --- the test account, visible only to vsftpd and sshd -----------------
    def make_accounts(self):
        used = {p.pw_uid for p in pwd.getpwall()}
        uid = next(u for u in range(61000, 65000) if u not in used)
        nogroup = pwd.getpwnam("nobody").pw_gid
        home = self.path("home", GOOD_USER)
        os.makedirs(home)
        os.chown(home, uid, nogroup)
        with open("/etc/passwd") as f:
            passwd = f.read()
        with open("/etc/shadow") as f:
            shadow = f.read()
        if not passwd.endswith("\n"):
            passwd += "\n"
        if not shadow.endswith("\n"):
            shadow += "\n"
        passwd += f"{GOOD_USER}:x:{uid}:{nogroup}:trawl test user:{home}:/bin/sh\n"
        shadow += f"{GOOD_USER}:{openssl_passwd('-6', GOOD_PASS)}:19000:0:99999:7:::\n"
        write(self.path("etc", "passwd"), passwd, 0o644)
        write(self.path("etc", "shadow"), shadow, 0o600)

    def with_accounts(self, argv, extra_mounts=""):
        """argv run in a private mount namespace that sees the test account."""
        script = ('set -e; mount --bind "$1" /etc/passwd; mount --bind "$2" /etc/shadow; '
                  + extra_mounts + 'shift 2; exec "$@"')
        return self.lab.srv(["unshare", "--mount", "--propagation", "private", "--",
                             "sh", "-c", script, "sh",
                             self.path("etc", "passwd"), self.path("etc", "shadow")] + list(argv))

    def _start(self, name, argv, ports):
        p = self.lab.start(name, argv)
        self.procs[name] = p
        for port in ports:
            self.lab.wait_listening(name, p, port)
        return p

    # --- dovecot: POP3 and IMAP, and the SASL service postfix uses ----------
    def start_dovecot(self):
        d = self.path("dovecot")
        mail = self.path("mail")
        os.makedirs(mail)
        nobody = pwd.getpwnam("nobody")
        os.chown(mail, nobody.pw_uid, nobody.pw_gid)
        # One message in the mailbox: curl 7.88 waits forever on an empty POP3 LIST.
        box = os.path.join(mail, GOOD_USER)
        for sub in ("", "new", "cur", "tmp"):
            os.makedirs(os.path.join(box, sub), mode=0o700, exist_ok=True)
            os.chown(os.path.join(box, sub), nobody.pw_uid, nobody.pw_gid)
        msg = os.path.join(box, "new", "1700000000.M1P1.trawl")
        write(msg, "From: bob@trawl.test\r\nTo: trawlalice@trawl.test\r\nSubject: hello\r\n\r\n"
                   "A message, so the mailbox is not empty.\r\n", 0o600)
        os.chown(msg, nobody.pw_uid, nobody.pw_gid)
        write(os.path.join(d, "users"), f"{GOOD_USER}:{{PLAIN}}{GOOD_PASS}::::::\n", 0o640)
        os.chown(os.path.join(d, "users"), 0, pwd.getpwnam("dovecot").pw_gid)
        postfix_private = self.path("postfix", "queue", "private")
        os.makedirs(postfix_private, exist_ok=True)
        write(os.path.join(d, "dovecot.conf"), f"""\
# Written by tests/integration/auth_real_servers.py; not a system config.
protocols = pop3 imap
listen = {SERVER_IP}
base_dir = {d}/run
state_dir = {d}/state
instance_name = trawl-test-{os.getpid()}
log_path = {d}/dovecot.log
auth_verbose = yes
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# Failures answer at once: the test's timing does not depend on the delay.
auth_failure_delay = 0
mail_location = maildir:{mail}/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid={nobody.pw_uid} gid={nobody.pw_gid} home={mail}/%u
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {PORTS['pop3']}
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = {PORTS['imap']}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service auth {{
  unix_listener {postfix_private}/auth {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
# No auth penalty: dovecot would otherwise slow every login from an address
# after its failures (up to 15 s each), and the script fails on purpose.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
        os.makedirs(os.path.join(d, "run"), exist_ok=True)
        os.makedirs(os.path.join(d, "state"), exist_ok=True)
        self._start("dovecot", self.lab.srv(["/usr/sbin/dovecot", "-F", "-c",
                                             os.path.join(d, "dovecot.conf")]),
                    [PORTS["pop3"], PORTS["imap"]])

    # --- postfix: SMTP AUTH through dovecot's SASL socket ---------------------
    def start_postfix(self):
        conf = self.path("postfix", "conf")
        queue = self.path("postfix", "queue")
        data = self.path("postfix", "data")
        os.makedirs(conf, exist_ok=True)
        os.makedirs(queue, exist_ok=True)
        os.makedirs(data, exist_ok=True)
        pf = pwd.getpwnam("postfix")
        os.chown(data, pf.pw_uid, pf.pw_gid)
        write(os.path.join(conf, "main.cf"), f"""\
# Written by tests/integration/auth_real_servers.py; not a system config.
compatibility_level = 3.6
config_directory = {conf}
queue_directory = {queue}
data_directory = {data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.trawl.test
mydomain = trawl.test
myorigin = trawl.test
mydestination =
relayhost =
inet_interfaces = {SERVER_IP}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file = {self.path('postfix', 'postfix.log')}
maillog_file_prefixes = {self.path('postfix')}
smtpd_banner = $myhostname ESMTP
smtpd_tls_security_level = none
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_security_options = noanonymous
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
alias_maps =
alias_database =
local_recipient_maps =
biff = no
""")
        # Only what an SMTP session that ends after AUTH needs; nothing chrooted.
        write(os.path.join(conf, "master.cf"), """\
# service type  private unpriv  chroot  wakeup  maxproc command
smtp      inet  n       -       n       -       -       smtpd
anvil     unix  -       -       n       -       1       anvil
cleanup   unix  n       -       n       -       0       cleanup
rewrite   unix  -       -       n       -       -       trivial-rewrite
proxymap  unix  -       -       n       -       -       proxymap
postlog   unix-dgram n  -       n       -       1       postlogd
""")
        # Creates the queue sub-directories with the right owners.
        # (In the server namespace: postfix checks that inet_interfaces exist.)
        run(self.lab.srv(["/usr/sbin/postfix", "-c", conf, "set-permissions"]), check=False, timeout=60)
        run(self.lab.srv(["/usr/sbin/postfix", "-c", conf, "check"]), timeout=60)
        # The master in the foreground (-d), so its PID is the one we stop.
        self._start("postfix", self.lab.srv(["/usr/lib/postfix/sbin/master", "-d", "-c", conf]),
                    [PORTS["smtp"]])

    # --- vsftpd: local user through PAM (Debian's /etc/pam.d/vsftpd) ---------
    def start_vsftpd(self):
        d = self.path("vsftpd")
        write(os.path.join(d, "vsftpd.conf"), f"""\
# Written by tests/integration/auth_real_servers.py; not a system config.
listen=YES
listen_ipv6=NO
listen_address={SERVER_IP}
listen_port={PORTS['ftp']}
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=NO
pam_service_name=vsftpd
userlist_enable=NO
secure_chroot_dir={d}/empty
pasv_enable=YES
pasv_address={SERVER_IP}
pasv_min_port=40000
pasv_max_port=40100
delay_failed_login=0
seccomp_sandbox=NO
xferlog_enable=NO
vsftpd_log_file={d}/vsftpd.log
dual_log_enable=YES
log_ftp_protocol=YES
""", 0o600)
        os.makedirs(os.path.join(d, "empty"), mode=0o755, exist_ok=True)
        self._start("vsftpd", self.with_accounts(["/usr/sbin/vsftpd", os.path.join(d, "vsftpd.conf")]),
                    [PORTS["ftp"]])

    # --- nginx: one location behind Basic auth, one open --------------------
    def start_nginx(self):
        d = self.path("nginx")
        www = os.path.join(d, "www")
        write(os.path.join(www, "index.html"), "open\n")
        write(os.path.join(www, "private", "index.html"), "private\n")
        write(os.path.join(d, "htpasswd"), f"{GOOD_USER}:{openssl_passwd('-apr1', GOOD_PASS)}\n", 0o644)
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(d, "tmp", sub), exist_ok=True)
        write(os.path.join(d, "nginx.conf"), f"""\
# Written by tests/integration/auth_real_servers.py; not a system config.
daemon off;
master_process on;
worker_processes 1;
user www-data;
pid {d}/nginx.pid;
lock_file {d}/nginx.lock;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/tmp/body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
  server {{
    listen {SERVER_IP}:{PORTS['http']};
    server_name www.trawl.test;
    root {www};
    location /private/ {{
      auth_basic "trawl test";
      auth_basic_user_file {d}/htpasswd;
    }}
  }}
}}
""")
        self._start("nginx", self.lab.srv(["/usr/sbin/nginx", "-e", os.path.join(d, "error.log"),
                                           "-p", d + "/", "-c", os.path.join(d, "nginx.conf")]),
                    [PORTS["http"]])

    # --- sshd: password authentication for the test account -----------------
    def start_sshd(self):
        d = self.path("sshd")
        os.makedirs(d, exist_ok=True)
        key = os.path.join(d, "ssh_host_ed25519_key")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "trawl-test", "-f", key])
        write(os.path.join(d, "sshd_config"), f"""\
# Written by tests/integration/auth_real_servers.py; not a system config.
ListenAddress {SERVER_IP}
Port {PORTS['ssh']}
HostKey {key}
PidFile {d}/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
PermitRootLogin no
AuthorizedKeysFile none
MaxAuthTries 10
MaxStartups 100
UseDNS no
StrictModes no
LogLevel VERBOSE
PrintMotd no
Subsystem sftp internal-sftp
""", 0o600)
        # sshd needs its privilege-separation directory /run/sshd; a tmpfs on
        # /run in sshd's own mount namespace provides it without touching the host.
        extra = 'mount -t tmpfs -o mode=0755 trawl-run /run; mkdir -m 0755 /run/sshd; '
        self._start("sshd", self.with_accounts(["/usr/sbin/sshd", "-D", "-e", "-f",
                                                os.path.join(d, "sshd_config")], extra),
                    [PORTS["ssh"]])

    def start_all(self):
        self.make_accounts()
        self.start_dovecot()
        self.start_postfix()
        self.start_vsftpd()
        self.start_nginx()
        self.start_sshd()

    def check_all_alive(self):
        for name, p in self.procs.items():
            self.lab.check_alive(name, p)

    def logs(self):
        """Paths of the servers' own logs, for a failure message."""
        out = []
        for rel in ("dovecot/dovecot.log", "postfix/postfix.log", "vsftpd/vsftpd.log",
                    "nginx/error.log", "nginx/access.log"):
            p = self.path(rel)
            if os.path.exists(p):
                out.append(p)
        return out

