-- One-time set-up of a PostgreSQL cluster for orb, run by a superuser (or your cloud's admin
-- role) before the first `orb migrate`:
--
--   psql -v ON_ERROR_STOP=1 -v owner_password="$ORB_OWNER_PASSWORD" \
--        -v app_password="$ORB_APP_PASSWORD" -f deploy/postgres/bootstrap.sql
--
-- Two roles, so the serving process never holds the schema owner's password:
--   orb_owner  owns the database and every object in it; used only by `orb migrate`.
--   orb_app    the runtime role. The first migration creates it NOLOGIN only if it is missing,
--              so creating it here with a login is what lets `serve` connect with
--              ORB_RUNTIME_DATABASE_URL without the owner needing CREATEROLE.
-- Role names are cluster-wide: one orb database per cluster (the migrations grant to the
-- fixed name orb_app).
\set ON_ERROR_STOP on

CREATE ROLE orb_owner LOGIN PASSWORD :'owner_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
-- `orb serve` refuses a runtime role that is superuser, bypasses RLS or owns tables.
CREATE ROLE orb_app LOGIN PASSWORD :'app_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;

CREATE DATABASE orb OWNER orb_owner;

\connect orb
-- PostgreSQL 14 and older let every role create tables in `public`; orb_app must own nothing.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO orb_owner;
