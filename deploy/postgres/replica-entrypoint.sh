#!/usr/bin/env bash
# The replica of docker-compose.scale.yml: on its first start (an empty data directory) a clone of the primary made
# by pg_basebackup -R, which writes standby.signal and how to reach the primary; then a hot standby streaming from it
# through its own replication slot. Later starts resume streaming where it stopped.
set -euo pipefail

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready --quiet --host "$PRIMARY_HOST" --username replicator --dbname postgres; do sleep 1; done
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  gosu postgres pg_basebackup --host "$PRIMARY_HOST" --username replicator --pgdata "$PGDATA" \
    --write-recovery-conf --wal-method stream --create-slot --slot "$REPLICATION_SLOT" --checkpoint fast
fi

exec docker-entrypoint.sh postgres -c hot_standby=on
