#!/bin/sh
# PostgreSQL image init script: runs once, when the postgres-data volume is first initialised.
#
#   mentorflow            event store and read models, owned by role `mentorflow`, closed to others
#   role temporal         may create databases: the temporal-schema job creates `temporal` and
#                         `temporal_visibility` with it
#
# Passwords come from the environment (see docker-compose.yml); psql quotes them as literals.
# Written to work whether the entrypoint executes this file or sources it.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=mentorflow_password="${MENTORFLOW_DB_PASSWORD:?MENTORFLOW_DB_PASSWORD is not set}" \
    --set=temporal_password="${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is not set}" <<'SQL'
CREATE ROLE mentorflow LOGIN PASSWORD :'mentorflow_password';
CREATE DATABASE mentorflow OWNER mentorflow;
REVOKE ALL ON DATABASE mentorflow FROM PUBLIC;

CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
SQL
