"""Real servers on loopback, for the tests and the benchmarks (bench/ imports this too)."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT_BIN = shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


DOVECOT_CONF = """
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%n/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/mail/%n
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def start_dovecot(prefix: str = "sd-dovecot-") -> tuple[Path, int]:
    """A throwaway dovecot IMAP server with one user, ``desk`` / ``secret``: (its directory,
    its port). The directory is outside pytest's private (0700) temporary tree: dovecot's auth
    process runs as its own user and must read the password file."""
    if not Path(DOVECOT_BIN).exists():
        raise RuntimeError("dovecot is not installed: apt-get install -y dovecot-imapd")
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    directory.chmod(0o755)
    port = free_port()
    account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    for sub in ("run", "state", "mail"):
        (directory / sub).mkdir()
    if os.geteuid() == 0:
        os.chown(directory / "mail", account.pw_uid, account.pw_gid)
    (directory / "passwd").write_text("desk:{PLAIN}secret\n")
    conf = directory / "dovecot.conf"
    conf.write_text(
        DOVECOT_CONF.format(dir=directory, port=port, uid=account.pw_uid, gid=account.pw_gid)
    )
    subprocess.run([DOVECOT_BIN, "-c", str(conf)], check=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return directory, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("dovecot did not start: " + (directory / "dovecot.log").read_text())


def stop_dovecot(directory: Path) -> None:
    subprocess.run([DOVECOT_BIN, "-c", str(directory / "dovecot.conf"), "stop"], check=False)
    shutil.rmtree(directory, ignore_errors=True)
