"""Online backup and restore of the whole database (45 CFR 164.308(a)(7) contingency plan,
164.312(c)(1) integrity).

SQLite: the sqlite3 online backup API copies a consistent snapshot while the product runs.
PostgreSQL: pg_dump's custom format, restored with pg_restore --clean in one transaction.
"""

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection


class BackupError(Exception):
    pass


def engine() -> str:
    return "sqlite" if connection.vendor == "sqlite" else "postgresql"


def pg_program(name: str) -> str:
    """pg_dump or pg_restore: COCM_PG_BIN, else PATH, else the newest Debian install (a
    newer pg_dump reads older servers, never the other way round)."""
    configured = os.environ.get("COCM_PG_BIN")
    if configured:
        return str(Path(configured) / name)
    installed = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if installed:

        def major(path: str) -> int:
            found = re.search(r"/postgresql/(\d+)/", path)
            return int(found.group(1)) if found else 0

        return max(installed, key=major)
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise BackupError(f"{name} was not found; install the PostgreSQL client or set COCM_PG_BIN.")


def libpq_environment() -> dict[str, str]:
    """The connection settings (from DATABASE_URL) as libpq variables: no password on the
    command line, where other users of the machine could read it."""
    settings = connection.settings_dict
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if settings.get(key):
            env[variable] = str(settings[key])
    return env


def run(command: list[str]) -> None:
    result = subprocess.run(  # noqa: S603 - fixed programs, arguments built here
        command, env=libpq_environment(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")


def sqlite_connection() -> sqlite3.Connection:
    connection.ensure_connection()
    return connection.connection  # type: ignore[return-value]


def backup(path: Path) -> None:
    """Write a consistent copy of the database to `path`, then check the copy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if engine() == "sqlite":
        target = sqlite3.connect(path)
        try:
            sqlite_connection().backup(target)
        finally:
            target.close()
    else:
        run([pg_program("pg_dump"), "--format=custom", "--no-owner", f"--file={path}"])
    verify(path)


def verify(path: Path) -> None:
    """Refuse a file that is not a readable backup for this database engine."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    if engine() == "sqlite":
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                (result,) = source.execute("PRAGMA integrity_check").fetchone()
                source.execute("SELECT COUNT(*) FROM django_migrations").fetchone()
            finally:
                source.close()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is not a readable SQLite backup: {error}") from error
        if result != "ok":
            raise BackupError(f"{path} failed SQLite's integrity check: {result}")
    else:
        run([pg_program("pg_restore"), "--list", str(path)])


def restore(path: Path) -> None:
    """Replace the database's contents with the backup at `path`, all or nothing."""
    verify(path)
    if engine() == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            # The backup API replaces every page of the live database in one step.
            source.backup(sqlite_connection())
        finally:
            source.close()
    else:
        connection.close()  # pg_restore must be able to drop what this connection reads
        run(
            [
                pg_program("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={connection.settings_dict['NAME']}",
                str(path),
            ]
        )
