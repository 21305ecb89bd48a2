"""One Spark catalogue for many processes: Hive's metastore service over the local catalogue.

A local Spark session opens its catalogue (Hive's Derby database under
CROSSDOCK_SPARK_HOME) inside its own JVM, and embedded Derby admits one JVM:
while one process holds a session, dbt-spark in another process (Dagster's
dbt step runs dbt in a subprocess) cannot open the catalogue. The usual answer
is one metastore service that every session asks over Thrift. Hive's own
(`org.apache.hadoop.hive.metastore.HiveMetaStore`) ships in pyspark's jars, so
nothing more is installed: `crossdock spark-serve` runs it as one JVM, and
a process with CROSSDOCK_SPARK_METASTORE_URI set (the `spark` profile passes
it to Spark as `hive.metastore.uris`) asks it instead of opening Derby.

The service keeps the catalogue the profile names (its Derby URL and its
warehouse folder, rendered as a session renders them), so a catalogue built
by one process with the local default is served unchanged, and back.

Not PostgreSQL under the metastore: Hive 2.3 creates its schema lazily through
DataNucleus, and on PostgreSQL its first table write deadlocked on its own
schema change (issue 18); behind one service, Derby has one JVM, as it needs.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from crossdock.ports import answers, free_port
from crossdock.spark import spark_home, spark_parameters

METASTORE_URI_VARIABLE = "CROSSDOCK_SPARK_METASTORE_URI"
DEFAULT_PORT = 9083  # Hive's usual metastore port
URIS_PARAMETER = "spark.hadoop.hive.metastore.uris"
_SERVICE = "org.apache.hadoop.hive.metastore.HiveMetaStore"
DERBY_LOCK = "dbex.lck"  # Derby holds an OS lock on this file while a JVM has the database booted


def metastore_addresses(uri: str) -> list[tuple[str, int]]:
    """The host and port of each `thrift://host:port` in the setting (Hive's client tries them in turn)."""
    addresses = []
    for part in uri.split(","):
        parsed = urlparse(part.strip())
        if parsed.scheme != "thrift" or not parsed.hostname or not parsed.port:
            raise ValueError(f"{METASTORE_URI_VARIABLE}={uri!r} is not a metastore URI: write it thrift://host:port")
        addresses.append((parsed.hostname, parsed.port))
    return addresses


def check_metastore(parameters: dict[str, str]) -> None:
    """Fail at once, saying what to start, when the session's settings name a metastore that does not answer.

    Without this check Hive's client retries, then fails with a Thrift error
    that names neither the setting nor the service.
    """
    uri = parameters.get(URIS_PARAMETER, "").strip()
    if not uri:
        return
    addresses = metastore_addresses(uri)
    if not any(answers(host, port) for host, port in addresses):
        host, port = addresses[0]
        raise RuntimeError(
            f"no Spark metastore answers at {uri} ({METASTORE_URI_VARIABLE}): start it with "
            f"`crossdock spark-serve --port {port}` on {host} (same CROSSDOCK_SPARK_HOME), or unset "
            f"{METASTORE_URI_VARIABLE} to open the local catalogue in this process alone (docs/spark.md)"
        )


def derby_database(home: Path | None = None) -> Path | None:
    """The folder of the local catalogue's Derby database under the Spark `home` (default `spark_home()`), as
    the `spark` profile names it; None when the profile names another database."""
    url = spark_parameters(home).get("spark.hadoop.javax.jdo.option.ConnectionURL", "")
    found = re.search(r"^jdbc:derby:.*databaseName=([^;]+)", url)
    return Path(found.group(1)) if found else None


def catalogue_in_use(database: Path) -> bool:
    """Whether a JVM has the Derby `database` open now.

    Derby holds an OS lock on its dbex.lck while a JVM has the database
    booted, so asking for that lock answers without starting a JVM. Ask it
    before this process starts one: its own session's JVM holds the lock too.
    """
    import fcntl  # POSIX: where crossdock runs (Linux, macOS, the container)

    try:
        with open(database / DERBY_LOCK, "r+b") as lock:
            try:
                fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.lockf(lock, fcntl.LOCK_UN)
    except FileNotFoundError:  # never booted, or not a Derby database
        return False
    return False


def refuse_a_catalogue_in_use(what: str, unless_served: bool = False, home: Path | None = None) -> None:
    """Raise, saying what to do, when another process has the local catalogue open and this one would open it
    too (`what`): Derby admits one JVM, and its own refusal surfaces as Hive's "Unable to instantiate
    SessionHiveMetaStoreClient", which names neither the catalogue nor the other process. With
    `unless_served`, a process told to ask a service (CROSSDOCK_SPARK_METASTORE_URI) is never refused. `home`:
    the Spark home whose catalogue it is, default `spark_home()`."""
    if unless_served and os.environ.get(METASTORE_URI_VARIABLE, "").strip():
        return
    database = derby_database(home)
    if database is not None and catalogue_in_use(database):
        raise RuntimeError(
            f"{what}: the Spark catalogue {database} is open in another process (a `crossdock spark-serve`, a run "
            f"or the UI on Spark) and admits one; set {METASTORE_URI_VARIABLE} to that process's service "
            "(thrift://host:port), or wait for it to end (docs/spark.md)"
        )


def require_metastore(why: str) -> str:
    """The metastore service a process needs when Spark also runs in another process at the same time (`why`).

    Raises, saying what to start, when none is named or the one named does not
    answer: without a service the second JVM fails on Derby's lock with an
    error that names neither (the Dagster job's dbt step runs dbt-spark in a
    subprocess while the step's process holds its session).
    """
    uri = os.environ.get(METASTORE_URI_VARIABLE, "").strip()
    if not uri:
        raise RuntimeError(
            f"{why}, and the local Spark catalogue (Derby) admits one process: start "
            f"`crossdock spark-serve --port {DEFAULT_PORT}` (same CROSSDOCK_SPARK_HOME) and set "
            f"{METASTORE_URI_VARIABLE}=thrift://127.0.0.1:{DEFAULT_PORT} in this process's environment, "
            "or run the job with `crossdock run`, which serves the catalogue for its own run (docs/spark.md)"
        )
    check_metastore({URIS_PARAMETER: uri})
    return uri


@contextmanager
def metastore_for_this_process(why: str) -> Iterator[str]:
    """The metastore service this process and its subprocesses use while the block runs; yields its URI.

    The one CROSSDOCK_SPARK_METASTORE_URI names, which must answer
    (`require_metastore`); when none is named, one started here on a free
    loopback port over CROSSDOCK_SPARK_HOME's catalogue, its URI set in this
    process's environment (so dbt's subprocess asks it too), and stopped when
    the block ends. So one command needs no service of the user's, and a
    deployment's own service is used as it is.
    """
    if os.environ.get(METASTORE_URI_VARIABLE, "").strip():
        yield require_metastore(why)
        return
    port = free_port()
    service = start_metastore(port)
    uri = f"thrift://127.0.0.1:{port}"
    os.environ[METASTORE_URI_VARIABLE] = uri
    try:
        yield uri
    finally:
        os.environ.pop(METASTORE_URI_VARIABLE, None)
        stop_metastore(service)


def _jars() -> Path:
    """pyspark's jars: Spark's own, with Hive's metastore, Derby and DataNucleus among them."""
    import pyspark

    return Path(pyspark.__file__).parent / "jars"


def metastore_command(port: int, home: Path | None = None) -> list[str]:
    """The java command of the service, serving the catalogue the `spark` profile names under the Spark `home`
    (default `spark_home()`: CROSSDOCK_SPARK_HOME).

    Hive reads its settings from system properties; its log goes to
    `<spark home>/logs/` rather than to the temp folder. Async logging is off
    because its library (LMAX disruptor) is not among pyspark's jars.
    """
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("no java on PATH: the Spark metastore needs Java 17 (Debian: openjdk-17-jre-headless)")
    parameters = spark_parameters(home)
    logs = (home or spark_home()) / "logs"
    settings = {
        "javax.jdo.option.ConnectionURL": parameters["spark.hadoop.javax.jdo.option.ConnectionURL"],
        "hive.metastore.warehouse.dir": parameters["spark.sql.warehouse.dir"],
        "datanucleus.schema.autoCreateAll": "true",  # as a local session creates its Derby catalogue
        "hive.metastore.schema.verification": "false",
        "hive.async.log.enabled": "false",
        "hive.log.dir": str(logs),
        "derby.stream.error.file": str(logs / "derby.log"),
    }
    return [java, "-Xmx512m", "-cp", f"{_jars()}/*", *(f"-D{key}={value}" for key, value in settings.items()),
            _SERVICE, "-p", str(port)]


def start_metastore(port: int = DEFAULT_PORT, timeout: float = 120.0, home: Path | None = None) -> subprocess.Popen:
    """Start the service over the catalogue of the Spark `home` (default `spark_home()`) in the background and
    return once it accepts connections.

    Its console output goes to `<spark home>/logs/metastore.out`; a service
    that exits before it listens (the port taken, the catalogue open in a
    local session) raises with the end of that file.
    """
    if answers("127.0.0.1", port):
        raise RuntimeError(f"port {port} is taken: stop what listens there or choose another port")
    home = home or spark_home()
    refuse_a_catalogue_in_use(f"the Spark metastore cannot serve on port {port}", home=home)
    command = metastore_command(port, home)
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "metastore.out", "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=logs)
    deadline = time.monotonic() + timeout
    while not answers("127.0.0.1", port, timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_metastore(process)
            tail = (logs / "metastore.out").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the Spark metastore did not start on port {port} (log in {logs}):\n{tail}")
        time.sleep(0.5)
    return process


def stop_metastore(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Stop the service (Hive shuts Derby down cleanly on SIGTERM), killing it if it does not stop in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_metastore(port: int = DEFAULT_PORT) -> None:
    """`crossdock spark-serve`: this process becomes the service, until Ctrl-C or a process manager's stop.

    The JVM replaces the Python process (exec) rather than running under it,
    so a stop signal reaches the service itself and no orphan keeps the port.
    """
    if answers("127.0.0.1", port):
        raise RuntimeError(f"port {port} is taken: stop what listens there or choose another port")
    command = metastore_command(port)
    (spark_home() / "logs").mkdir(parents=True, exist_ok=True)
    print(f"serving the Spark catalogue of {spark_home()} on port {port}: set "
          f"{METASTORE_URI_VARIABLE}=thrift://<this host>:{port} in every process that uses it "
          f"(Ctrl-C stops it; its log in {spark_home() / 'logs'})", flush=True)
    os.execv(command[0], command)
