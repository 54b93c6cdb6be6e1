-- Functions declared SECURITY DEFINER (the results feed, code exchange, login, the engagement
-- feed) run as the schema owner, and every county table FORCEs row-level security, so the owner
-- is held to the policies too. Where the owner is a superuser (development, tests) that is
-- invisible; where it is not (every production set-up in deploy/), those functions saw only what
-- the request's tenant settings allowed — faculty read empty results, respondents could not
-- exchange a code. Each of these functions checks the caller's entitlement itself; what they
-- need is to read. So the owner reads every forced table; it still writes only as the policies
-- allow, and the runtime role, which is never the owner, gains nothing.
--
-- A table created later with FORCE ROW LEVEL SECURITY gets the same policy in its migration
-- (orb.let_owner_read), and a test checks that none lacks it.
CREATE FUNCTION orb.let_owner_read(tab regclass) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public
AS $$
BEGIN
    EXECUTE format('CREATE POLICY owner_reads ON %s FOR SELECT TO %I USING (true)', tab, current_user);
END
$$;
REVOKE ALL ON FUNCTION orb.let_owner_read(regclass) FROM PUBLIC;

SELECT orb.let_owner_read(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relforcerowsecurity;
