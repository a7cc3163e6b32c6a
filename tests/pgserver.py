"""A throwaway PostgreSQL cluster for tests: Debian's server binaries, a private temp directory.

``python -m tests.pgserver start DIR`` creates and starts a cluster in ``DIR`` (empty or absent)
and prints its URL; ``python -m tests.pgserver stop DIR`` stops it and deletes ``DIR``. CI
(``.ci/run``) uses the CLI; the storage tests' session fixture calls ``PgCluster.start`` itself
when no server URL is given. Standard library only: CI runs it with the system python3.

The server listens on no TCP port at all: its only socket lives in ``DIR`` (mode 0700), so
``trust`` authentication admits nobody but the user who started it (and root), and no port can
clash with another run. The port (which then only names the socket file) is still not fixed: a
number free on this machine is picked, so a TCP listener could be added without a clash.

``initdb`` and ``postgres`` refuse to run as root; as root (CI), they run as the ``postgres``
user through ``runuser``, and ``DIR`` is handed to that user.

Durability is switched off (``fsync``, ``full_page_writes``): nothing in a test cluster has to
survive a power cut, and it makes creating a database per test cheap.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

#: overrides where initdb / pg_ctl are looked for (a directory)
BINDIR_ENV = "PG_BINDIR"
_INSTALL_HINT = (
    "install Debian's postgresql package (apt-get install postgresql), set PG_BINDIR to the "
    "directory holding initdb and pg_ctl, or set TEST_DATABASE_URL to a server you provide"
)
_SUPERUSER = "postgres"


class PgServerError(RuntimeError):
    """The cluster could not be created, started or stopped; the message says why."""


def find_bindir() -> Path:
    """The newest PostgreSQL server binaries: ``$PG_BINDIR``, Debian's layout, then ``$PATH``."""
    given = os.environ.get(BINDIR_ENV)
    if given:
        if not (Path(given) / "initdb").is_file():
            raise PgServerError(f"{BINDIR_ENV}={given} holds no initdb; {_INSTALL_HINT}")
        return Path(given)
    debian = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if p.is_file()]
    if debian:
        # the newest major version (directory names are the major version: 15, 16, 17)
        return max(debian, key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise PgServerError(f"no PostgreSQL server found (initdb); {_INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user() -> list[str]:
    """The command prefix that runs a server binary as a user it accepts."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        raise PgServerError("running as root needs runuser (util-linux) to start PostgreSQL")
    try:
        pwd.getpwnam(_SUPERUSER)
    except KeyError:
        raise PgServerError(
            f"running as root, PostgreSQL must run as the {_SUPERUSER!r} user, which does not "
            f"exist; {_INSTALL_HINT}"
        ) from None
    return ["runuser", "-u", _SUPERUSER, "--"]


def _check_reachable(base: Path) -> None:
    """The server user must be able to walk down to ``base`` (root's own 0700 dirs bar it)."""
    for parent in base.parents:
        if not parent.stat().st_mode & stat.S_IXOTH:
            raise PgServerError(
                f"the {_SUPERUSER} user cannot reach {base}: {parent} is not searchable by "
                "others; use a directory directly under /tmp (e.g. mktemp -d)"
            )


@dataclass(frozen=True)
class PgCluster:
    base: Path
    port: int

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def url(self) -> str:
        """The superuser's URL over the private socket (the ``postgres`` maintenance database)."""
        return f"postgresql://{_SUPERUSER}@/postgres?host={quote(str(self.base))}&port={self.port}"

    @classmethod
    def start(cls, base: Path | str) -> PgCluster:
        """initdb + start in ``base`` (created if absent, must be empty); wait until it accepts."""
        base = Path(base).resolve()
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        if any(base.iterdir()):
            raise PgServerError(f"{base} is not empty; give an empty or new directory")
        prefix = _as_server_user()
        if prefix:
            _check_reachable(base)
            shutil.chown(base, user=_SUPERUSER)
        base.chmod(0o700)
        bindir = find_bindir()
        cluster = cls(base=base, port=_free_port())
        _run(
            [
                *prefix,
                str(bindir / "initdb"),
                f"--pgdata={cluster.data}",
                f"--username={_SUPERUSER}",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            cwd=base,
            what="initdb",
        )
        options = " ".join(
            [
                "-c listen_addresses=''",
                f"-c unix_socket_directories='{base}'",
                f"-c port={cluster.port}",
                "-c fsync=off",
                "-c full_page_writes=off",
            ]
        )
        log = base / "server.log"
        try:
            _run(
                [
                    *prefix,
                    str(bindir / "pg_ctl"),
                    f"--pgdata={cluster.data}",
                    f"--log={log}",
                    f"--options={options}",
                    "--wait",
                    "--silent",
                    "start",
                ],
                cwd=base,
                what="pg_ctl start",
            )
        except PgServerError as exc:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
            raise PgServerError(f"{exc}\nserver log:\n{tail}") from None
        return cluster

    def stop(self) -> None:
        stop(self.base)


def stop(base: Path | str) -> None:
    """Stop the cluster in ``base`` (if it runs) and delete ``base``."""
    base = Path(base).resolve()
    data = base / "data"
    if (data / "postmaster.pid").exists():
        _run(
            [
                *_as_server_user(),
                str(find_bindir() / "pg_ctl"),
                f"--pgdata={data}",
                "--mode=immediate",
                "--wait",
                "--silent",
                "stop",
            ],
            cwd=base,
            what="pg_ctl stop",
        )
    shutil.rmtree(base, ignore_errors=True)


def _run(cmd: list[str], *, cwd: Path, what: str) -> None:
    # cwd: the server user may not be able to enter the caller's directory (/root)
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603 - fixed binaries, arguments built here
    if done.returncode != 0:
        raise PgServerError(
            f"{what} failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()}"
        )


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"start", "stop"}:
        print("usage: python -m tests.pgserver start|stop DIR", file=sys.stderr)  # noqa: T201 - CLI
        return 2
    command, base = argv
    try:
        if command == "start":
            print(PgCluster.start(base).url)  # noqa: T201 - the CLI's output is the URL
        else:
            stop(base)
    except PgServerError as exc:
        print(f"pgserver: {exc}", file=sys.stderr)  # noqa: T201 - CLI
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
