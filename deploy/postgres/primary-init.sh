#!/usr/bin/env bash
# Run once by the postgres image when it creates the primary's data directory (docker-compose.scale.yml).
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set replication_password="$REPLICATION_PASSWORD" --set role="$POSTGRES_USER" <<'SQL'
-- The replica clones the primary and streams its WAL as this role.
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'replication_password';
-- PgBouncer drops the statement_timeout and options the service sends when it connects (ignore_startup_parameters),
-- so the role carries them: the same limit, and no JIT for short queries. Migrations lift the timeout themselves.
ALTER ROLE :"role" SET statement_timeout = '5s';
ALTER ROLE :"role" SET jit = off;
SQL

echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
