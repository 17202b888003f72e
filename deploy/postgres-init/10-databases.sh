#!/bin/sh
# Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d): the
# catalog database (POSTGRES_DB) gets pgvector, and Dagster's runs, events and schedules get a
# database of their own (DAGSTER_DB), both owned by POSTGRES_USER.
set -eu
psql -v ON_ERROR_STOP=1 -v dagster_db="$DAGSTER_DB" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE EXTENSION IF NOT EXISTS vector;
CREATE DATABASE :"dagster_db";
SQL
