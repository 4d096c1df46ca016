#!/bin/sh
# One-shot job in temporalio/admin-tools: Temporal's two PostgreSQL databases, created and
# migrated to the schema version that this admin-tools release ships (keep its tag equal to the
# server's). Safe on every `docker compose up`: setup-schema leaves a newer schema alone and
# update-schema applies only the versions that are missing.
set -eu

: "${SQL_PLUGIN:=postgres12}"
: "${SQL_HOST:=postgres}"
: "${SQL_PORT:=5432}"
: "${SQL_USER:=temporal}"
: "${SQL_PASSWORD:?SQL_PASSWORD is not set}"
: "${TEMPORAL_DB:=temporal}"
: "${TEMPORAL_VISIBILITY_DB:=temporal_visibility}"
# temporal-sql-tool reads the password from the environment, so it never shows in `ps`.
export SQL_PASSWORD
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

log() { echo "temporal-schema: $*"; }

sql_tool() {
    temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" "$@"
}

# setup_database NAME VERSIONED_SCHEMA_DIR
setup_database() {
    # PostgreSQL has no CREATE DATABASE IF NOT EXISTS, so `create` fails once the database is
    # there; a real problem (wrong password, no CREATEDB) fails setup-schema right after.
    if sql_tool --db "$1" create; then
        log "created database $1"
    else
        log "database $1 not created (it exists already, or setup-schema will say why)"
    fi
    sql_tool --db "$1" setup-schema -v 0.0
    sql_tool --db "$1" update-schema -d "$2"
    log "database $1 is at the schema of this release"
}

log "waiting for PostgreSQL at $SQL_HOST:$SQL_PORT"
attempt=1
until nc -z "$SQL_HOST" "$SQL_PORT"; do
    if [ "$attempt" -ge 60 ]; then
        log "PostgreSQL did not answer"
        exit 1
    fi
    attempt=$((attempt + 1))
    sleep 1
done

setup_database "$TEMPORAL_DB" "$SCHEMA_ROOT/temporal/versioned"
setup_database "$TEMPORAL_VISIBILITY_DB" "$SCHEMA_ROOT/visibility/versioned"
log "done"
