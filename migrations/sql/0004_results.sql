-- Results. Raw responses stay behind row-level security (respondents reach their own, leads
-- their county's); everyone else entitled to a county's *aggregates* gets them computed by the
-- service from this one feed, which checks the entitlement itself against the request's tenant
-- settings and returns only what aggregation needs: no response id, no time, no invitation.
--
-- Entitlement: scores are released only once the administration is closed, to its county's
-- lead; to the county's staff, its active buddy counties and state faculty once the lead has
-- released them.

CREATE FUNCTION orb.may_read_results(administration uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT EXISTS (
        SELECT 1 FROM public.administrations a
        WHERE a.id = administration
          AND a.status = 'closed'
          AND (a.county_id = ANY (orb.lead_counties())
               OR (a.results_released_at IS NOT NULL
                   AND (a.county_id = ANY (orb.member_counties())
                        OR a.county_id = ANY (orb.partner_counties())
                        OR orb.has_global_role('faculty')))))
$$;

CREATE FUNCTION orb.results_feed(administration uuid)
    RETURNS TABLE (perspective text, org_unit_id uuid, answers jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT r.perspective, r.org_unit_id, r.answers
    FROM public.responses r
    WHERE r.administration_id = administration
      AND r.status = 'submitted'
      AND orb.may_read_results(administration)
$$;

REVOKE ALL ON FUNCTION orb.may_read_results(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION orb.results_feed(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orb.may_read_results(uuid) TO orb_app;
GRANT EXECUTE ON FUNCTION orb.results_feed(uuid) TO orb_app;
