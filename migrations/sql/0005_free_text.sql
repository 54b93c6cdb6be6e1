-- Free text: released only to groups at or above its own minimum (never below the score
-- minimum), to the county's lead once closed, to its staff once released, to its buddies only
-- when the county shares it, and never to faculty. The results feed strips text answers from
-- every caller not entitled to them, so they never leave the database for such a reader.

-- free_text_min_group_size: NULL means the default, the larger of 5 and the score minimum
-- (no existing row needs updating, which forced row-level security would not allow a
-- non-superuser owner to do in a migration).
ALTER TABLE administrations
    ADD COLUMN free_text_min_group_size integer,
    ADD COLUMN share_free_text_with_buddies boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT administrations_free_text_min
        CHECK (free_text_min_group_size IS NULL OR free_text_min_group_size >= min_group_size);

-- Whoever may read the scores, but among outsiders only buddies the county shares with.
CREATE FUNCTION orb.may_read_free_text(administration uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT orb.may_read_results(administration) AND EXISTS (
        SELECT 1 FROM public.administrations a
        WHERE a.id = administration
          AND (a.county_id = ANY (orb.member_counties())
               OR (a.share_free_text_with_buddies AND a.county_id = ANY (orb.partner_counties()))))
$$;
REVOKE ALL ON FUNCTION orb.may_read_free_text(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orb.may_read_free_text(uuid) TO orb_app;

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
    )
    SELECT r.perspective, r.org_unit_id,
           CASE WHEN orb.may_read_free_text(administration) THEN r.answers ELSE r.answers - t.codes END
    FROM public.responses r CROSS JOIN text_items t
    WHERE r.administration_id = administration
      AND r.status = 'submitted'
      AND orb.may_read_results(administration)
$$;
