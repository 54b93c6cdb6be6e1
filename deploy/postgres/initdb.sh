#!/usr/bin/env bash
# Run by the postgres image on its first start only (/docker-entrypoint-initdb.d/): creates
# orb's roles and database from the passwords compose passes in.
set -euo pipefail
: "${ORB_OWNER_PASSWORD:?}" "${ORB_APP_PASSWORD:?}"
psql --username "$POSTGRES_USER" --dbname postgres \
    -v ON_ERROR_STOP=1 \
    -v owner_password="$ORB_OWNER_PASSWORD" \
    -v app_password="$ORB_APP_PASSWORD" \
    -f /orb/bootstrap.sql
