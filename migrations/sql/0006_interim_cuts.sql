-- Interim cuts. While a survey is open its results show only response counts; a lead may
-- release one interim cut: the responses submitted so far, frozen. Its scores are readable as
-- closed ones are (lead at once; staff, buddies, faculty as released), and they never change as
-- more answers arrive, so watching results cannot reveal one new answer. One cut per survey:
-- a second would reveal, by difference, the answers between the two.

CREATE TABLE results_cuts (
    county_id          uuid NOT NULL,
    administration_id  uuid NOT NULL,
    response_id        uuid NOT NULL,
    PRIMARY KEY (county_id, administration_id, response_id),
    FOREIGN KEY (county_id, administration_id) REFERENCES administrations (county_id, id),
    FOREIGN KEY (county_id, response_id) REFERENCES responses (county_id, id)
);
ALTER TABLE results_cuts ENABLE ROW LEVEL SECURITY;
ALTER TABLE results_cuts FORCE ROW LEVEL SECURITY;
CREATE POLICY results_cuts_lead ON results_cuts FOR ALL
    USING (county_id = ANY (orb.lead_counties()))
    WITH CHECK (county_id = ANY (orb.lead_counties()));
GRANT SELECT, INSERT ON results_cuts TO orb_app;

ALTER TABLE administrations ADD COLUMN interim_cut_at timestamptz;

CREATE OR REPLACE FUNCTION orb.may_read_results(administration uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT EXISTS (
        SELECT 1 FROM public.administrations a
        WHERE a.id = administration
          AND (a.status = 'closed' OR a.interim_cut_at IS NOT NULL)
          AND (a.county_id = ANY (orb.lead_counties())
               OR (a.results_released_at IS NOT NULL
                   AND (a.county_id = ANY (orb.member_counties())
                        OR a.county_id = ANY (orb.partner_counties())
                        OR orb.has_global_role('faculty')))))
$$;

-- The feed of an open survey with a cut is the cut; of a closed one, every submitted response.
CREATE OR REPLACE FUNCTION orb.results_feed(administration uuid)
    RETURNS TABLE (perspective text, org_unit_id uuid, answers jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    WITH text_items AS (
        SELECT coalesce(array_agg(item ->> 'code'), '{}') AS codes
        FROM public.administrations a
        JOIN public.instrument_versions v ON v.id = a.instrument_version_id
        CROSS JOIN LATERAL jsonb_array_elements(v.document -> 'items') AS item
        WHERE a.id = administration AND item ->> 'kind' = 'TEXT'
    ), mode AS (
        SELECT a.status = 'closed' AS closed FROM public.administrations a WHERE a.id = administration
    )
    SELECT r.perspective, r.org_unit_id,
           CASE WHEN orb.may_read_free_text(administration) THEN r.answers ELSE r.answers - t.codes END
    FROM public.responses r CROSS JOIN text_items t CROSS JOIN mode m
    WHERE r.administration_id = administration
      AND r.status = 'submitted'
      AND (m.closed OR EXISTS (SELECT 1 FROM public.results_cuts c
                               WHERE c.administration_id = administration AND c.response_id = r.id))
      AND orb.may_read_results(administration)
$$;
