-- A signed-in user's request used to open with three statements after BEGIN, each a round trip
-- to PostgreSQL: set the user and the statement timeout, read the user's roles (row-level
-- security lets a user read their own), set the tenant settings the service derived from them.
-- This function does the three in one call, in that order, so every request of a signed-in
-- user starts with BEGIN and one statement.
--
-- It sets the settings from the same rows it returns, in the format `Principal::tenant_settings`
-- gives them (comma lists of ids and role names); a test compares the two for every kind of
-- account. It is SECURITY INVOKER: it reads under the caller's row-level security with
-- `orb.user_id` already set, exactly as the three statements did, and sees nothing more.
-- Everything is schema-qualified, so it does not depend on the caller's search_path.

CREATE FUNCTION orb.open_user_request(requester uuid, statement_timeout text)
    RETURNS TABLE (active boolean, global_roles text, memberships text, partners text)
    LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    member_counties text;
    lead_counties text;
BEGIN
    PERFORM pg_catalog.set_config('statement_timeout', statement_timeout, true);
    PERFORM pg_catalog.set_config('orb.user_id', requester::text, true);
    SELECT (SELECT u.disabled_at IS NULL FROM public.users u WHERE u.id = requester),
           coalesce((SELECT pg_catalog.string_agg(r.role, ',') FROM public.user_global_roles r
                     WHERE r.user_id = requester), ''),
           coalesce((SELECT pg_catalog.string_agg(m.county_id::text || ':' || m.role, ',') FROM public.memberships m
                     WHERE m.user_id = requester), ''),
           coalesce((SELECT pg_catalog.string_agg(m.county_id::text, ',') FROM public.memberships m
                     WHERE m.user_id = requester), ''),
           coalesce((SELECT pg_catalog.string_agg(m.county_id::text, ',') FROM public.memberships m
                     WHERE m.user_id = requester AND m.role = 'lead'), '')
      INTO active, global_roles, memberships, member_counties, lead_counties;
    -- Buddy pairings are readable only once the caller counts as signed in (orb.user_id above).
    SELECT coalesce(pg_catalog.string_agg(DISTINCT CASE WHEN p.testing_county_id = m.county_id
                                                        THEN p.buddy_county_id
                                                        ELSE p.testing_county_id END::text, ','), '')
      INTO partners
      FROM public.buddy_pairings p
      JOIN public.memberships m ON m.user_id = requester AND m.county_id IN (p.testing_county_id, p.buddy_county_id)
     WHERE p.status = 'active';
    PERFORM pg_catalog.set_config('orb.global_roles', global_roles, true),
            pg_catalog.set_config('orb.member_counties', member_counties, true),
            pg_catalog.set_config('orb.lead_counties', lead_counties, true),
            pg_catalog.set_config('orb.partner_counties', partners, true),
            pg_catalog.set_config('orb.respondent_response', '', true),
            pg_catalog.set_config('orb.respondent_administration', '', true),
            pg_catalog.set_config('orb.respondent_county', '', true),
            pg_catalog.set_config('orb.respondent_invitation', '', true);
    RETURN NEXT;
END
$$;
