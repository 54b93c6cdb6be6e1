-- SECURITY DEFINER functions run as the schema owner. Their search_path was pinned to
-- `pg_catalog, public`, which leaves the caller's temporary schema implicitly searched *first*
-- for tables and views; the runtime role may create temporary tables, so a function naming a
-- table without its schema would read the caller's stand-in instead of the real one. Today's
-- functions qualify every table, so this is hardening: each lists pg_temp explicitly, last, as
-- PostgreSQL's documentation advises, and a catalogue test keeps every later one doing so.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prosecdef AND n.nspname IN ('orb', 'public')
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public, pg_temp', f);
    END LOOP;
END
$$;
