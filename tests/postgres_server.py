"""A throwaway PostgreSQL server, and a fresh database per test, for the tests of Dagster's storage in PostgreSQL.

A shared deployment keeps its run history in PostgreSQL (deploy/dagster-postgres.yaml);
SQLite, the local default, cannot show whether that works. So:

* CI (`.ci/run`) starts a server and exports CROSSDOCK_TEST_POSTGRES_URL (a
  superuser's URL, e.g. postgresql://crossdock@127.0.0.1:5433/dagster) and
  CROSSDOCK_REQUIRE_POSTGRES=1;
* elsewhere the `postgres_server` fixture starts its own from the PostgreSQL
  binaries when they are installed (Debian: `apt-get install postgresql`), one per
  pytest-xdist worker (its own folder and free port), and stops it at the end;
* without either the tests skip, saying what to install, unless
  CROSSDOCK_REQUIRE_POSTGRES=1, where they fail: CI must never pass by skipping.

Every test gets a database of its own (`postgres_database`), dropped after it:
Dagster's tables (runs, events, pool slots) start empty, whichever worker or test
ran before. Use the fixtures by importing them into a test module:
`from postgres_server import postgres_database, postgres_server  # noqa: F401`.
"""
from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from crossdock.ports import free_port

URL_ENV = "CROSSDOCK_TEST_POSTGRES_URL"
REQUIRE_ENV = "CROSSDOCK_REQUIRE_POSTGRES"
SUPERUSER = "crossdock"
DEBIAN_BINARIES = Path("/usr/lib/postgresql")  # Debian's packages put initdb and pg_ctl here, off PATH
START_TIMEOUT = 60


@dataclass(frozen=True)
class PostgresDatabase:
    """One database on the test server, and how Dagster's deploy config reaches it."""

    host: str
    port: int
    user: str
    password: str
    name: str

    def dagster_env(self) -> dict[str, str]:
        """The variables deploy/dagster-postgres.yaml reads (the server trusts loopback: any password does)."""
        return {
            "CROSSDOCK_DAGSTER_PG_HOST": self.host,
            "CROSSDOCK_DAGSTER_PG_PORT": str(self.port),
            "CROSSDOCK_DAGSTER_PG_USER": self.user,
            "CROSSDOCK_DAGSTER_PG_PASSWORD": self.password,
            "CROSSDOCK_DAGSTER_PG_DB": self.name,
        }

    def connect(self):
        import psycopg2

        return psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password, dbname=self.name)


def _unavailable(reason: str) -> None:
    """Skip, or fail when PostgreSQL is required (CI)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason} (Debian: apt-get install postgresql; or set {URL_ENV} to a server's superuser URL)")


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl: from PATH, else the newest of Debian's /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    versions = [p for p in DEBIAN_BINARIES.glob("*/bin") if (p / "initdb").exists() and p.parent.name.isdigit()]
    return max(versions, key=lambda p: int(p.parent.name), default=None)


class LocalServer:
    """A PostgreSQL server in a temp folder on a free loopback port, trusting loopback connections.

    initdb refuses to run as root: as root, the server runs as the `postgres`
    user (Debian's package creates it). Durability is off (fsync): the data is
    thrown away at the end, and the tests measure Dagster, not the disk.
    """

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="crossdock-postgres-"))
        self.data = self.folder / "data"
        self.port = 0
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root, and initdb refuses root: create a `postgres` user "
                                   "(Debian's postgresql package does)") from None
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]], capture_output=True, text=True, timeout=START_TIMEOUT,
            user=self.user.pw_uid if self.user else None, group=self.user.pw_gid if self.user else None,
            extra_groups=[] if self.user else None, cwd=self.folder,
        )

    def start(self) -> str:
        """Start it; returns the superuser's URL to the `postgres` database."""
        done = self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                         "--locale=C", "--no-sync")
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()}")
        for _ in range(3):  # another worker may take the free port between our check and the server's bind
            self.port = free_port()
            options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options,
                             "-w", "-t", str(START_TIMEOUT), "start")
            if done.returncode == 0:
                return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"
        log = (self.folder / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"PostgreSQL did not start: {done.stderr.strip()}\n{log}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A superuser's URL on a PostgreSQL server: CI's (CROSSDOCK_TEST_POSTGRES_URL), else one started here."""
    url = os.environ.get(URL_ENV)
    if url:
        _check_connects(url)
        yield url
        return
    bin_dir = binaries()
    if bin_dir is None:
        _unavailable("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    try:
        server = LocalServer(bin_dir)
    except RuntimeError as error:
        _unavailable(str(error))
    try:
        try:
            url = server.start()
        except RuntimeError as error:
            _unavailable(f"a local server from {bin_dir} did not start: {error}")
        _check_connects(url)
        yield url
    finally:
        server.stop()


def _check_connects(url: str) -> None:
    try:
        import psycopg2

        psycopg2.connect(url, connect_timeout=10).close()
    except Exception as error:  # noqa: BLE001 - any failure to connect means the same: no usable server
        _unavailable(f"cannot connect to PostgreSQL at {_without_password(url)}: {error}".strip())


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=re.sub(r":[^:@]*@", ":***@", parts.netloc)))


@pytest.fixture
def postgres_database(postgres_server: str) -> Iterator[PostgresDatabase]:
    """A new, empty database on the server for this test, dropped after it (even if a run left connections)."""
    import psycopg2

    parts = urlsplit(postgres_server)
    name = f"crossdock_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_server)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'create database "{name}"')
        yield PostgresDatabase(parts.hostname or "127.0.0.1", parts.port or 5432, parts.username or SUPERUSER,
                               parts.password or "", name)
        with admin.cursor() as cursor:
            cursor.execute(f'drop database if exists "{name}" with (force)')
    finally:
        admin.close()


SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def assert_dagster_storage_in(database: PostgresDatabase, instance, home: Path) -> None:
    """Fail unless `instance` keeps runs, events and schedules in `database`, and nothing in SQLite under `home`.

    A config that lost its `storage` section, or a DAGSTER_HOME that is not the
    one configured, falls back to SQLite files without a word: every Dagster
    feature still works, on a history no other machine sees.
    """
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    expected = {"run": (instance.run_storage, PostgresRunStorage),
                "event log": (instance.event_log_storage, PostgresEventLogStorage),
                "schedule": (instance.schedule_storage, PostgresScheduleStorage)}
    for kind, (store, postgres_class) in expected.items():
        assert isinstance(store, postgres_class), f"the {kind} storage is {type(store).__name__}, not PostgreSQL"
        url = urlsplit(store.postgres_url)
        assert (url.hostname, url.port, url.path) == (database.host, database.port, f"/{database.name}"), (
            f"the {kind} storage is on {url.hostname}:{url.port}{url.path}, not the test's database {database.name}")
    sqlite_files = [p for p in home.rglob("*") if p.suffix in SQLITE_SUFFIXES]
    assert not sqlite_files, f"SQLite files in DAGSTER_HOME, so some storage is not PostgreSQL: {sqlite_files}"
