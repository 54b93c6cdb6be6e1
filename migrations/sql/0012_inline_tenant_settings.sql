-- The small functions every policy calls to read the request's tenant settings were declared
-- with `SET search_path = pg_catalog`. A function with a SET clause is never inlined: PostgreSQL
-- calls it once per row checked, saving and restoring the setting around each call (≈15 µs a
-- row: a 50-row page of responses spent most of its time there). They are re-declared here
-- without the clause and with every function, type and operator schema-qualified, so they do not
-- depend on the caller's search_path, and the planner inlines them into the policies. They are
-- SECURITY INVOKER and read only the caller's own settings, so no privilege is at stake; the
-- SECURITY DEFINER functions keep their pinned search_path (0011).

CREATE OR REPLACE FUNCTION orb.setting_uuids(name text) RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(
        pg_catalog.string_to_array(nullif(pg_catalog.current_setting(name, true), ''), ',')::pg_catalog.uuid[],
        '{}'::pg_catalog.uuid[])
$$;

CREATE OR REPLACE FUNCTION orb.user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(pg_catalog.current_setting('orb.user_id', true), '')::pg_catalog.uuid $$;

CREATE OR REPLACE FUNCTION orb.member_counties() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT orb.setting_uuids('orb.member_counties') $$;

CREATE OR REPLACE FUNCTION orb.lead_counties() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT orb.setting_uuids('orb.lead_counties') $$;

CREATE OR REPLACE FUNCTION orb.partner_counties() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT orb.setting_uuids('orb.partner_counties') $$;

CREATE OR REPLACE FUNCTION orb.has_global_role(role text) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT role OPERATOR(pg_catalog.=) ANY (
        pg_catalog.string_to_array(nullif(pg_catalog.current_setting('orb.global_roles', true), ''), ','))
$$;

CREATE OR REPLACE FUNCTION orb.is_authenticated() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT orb.user_id() IS NOT NULL
        OR coalesce(pg_catalog.current_setting('orb.global_roles', true), '') OPERATOR(pg_catalog.<>) ''
$$;

CREATE OR REPLACE FUNCTION orb.respondent_response() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(pg_catalog.current_setting('orb.respondent_response', true), '')::pg_catalog.uuid $$;

CREATE OR REPLACE FUNCTION orb.respondent_administration() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(pg_catalog.current_setting('orb.respondent_administration', true), '')::pg_catalog.uuid $$;

CREATE OR REPLACE FUNCTION orb.respondent_county() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(pg_catalog.current_setting('orb.respondent_county', true), '')::pg_catalog.uuid $$;

CREATE OR REPLACE FUNCTION orb.respondent_invitation() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(pg_catalog.current_setting('orb.respondent_invitation', true), '')::pg_catalog.uuid $$;

CREATE OR REPLACE FUNCTION orb.feedback_test() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(pg_catalog.current_setting('orb.feedback_test', true), '')::pg_catalog.uuid $$;

-- A lead's raw answers are paged by response id within a wave: the index serves the page in
-- order instead of sorting the whole wave for each one.
CREATE INDEX responses_administration_paging ON responses (administration_id, status, id);
DROP INDEX responses_administration;
