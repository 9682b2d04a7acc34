import os

# These tests need a real streaming replica: `make test-replica` (and CI) starts one with
# .ci/with-replica and sets DATABASE_REPLICA_URL. Without it they are not collected.
collect_ignore_glob = [] if os.environ.get("DATABASE_REPLICA_URL") else ["test_*.py"]
