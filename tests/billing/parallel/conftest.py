import os

# Truly parallel writers need a database that runs transactions at the same time:
# PostgreSQL (`make test-postgres`, CI). SQLite runs one write transaction at a time, so
# these tests are not collected there.
collect_ignore_glob = (
    []
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    else ["test_*.py"]
)
