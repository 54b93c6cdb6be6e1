-- The results feed decides the caller's entitlement once per call, not once per response: the
-- same rules as 0006, asked of a materialized row, so a state-sized comparison (58 feeds of
-- hundreds of responses) does not run the access checks tens of thousands of times.
CREATE OR REPLACE FUNCTION orb.results_feed(administration uuid)
    RETURNS TABLE (perspective text, org_unit_id uuid, answers jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    WITH entitled AS MATERIALIZED (
        SELECT orb.may_read_results(administration) AS scores,
               orb.may_read_free_text(administration) AS free_text
    ), text_items AS MATERIALIZED (
        SELECT coalesce(array_agg(item ->> 'code'), '{}') AS codes
        FROM public.administrations a
        JOIN public.instrument_versions v ON v.id = a.instrument_version_id
        CROSS JOIN LATERAL jsonb_array_elements(v.document -> 'items') AS item
        WHERE a.id = administration AND item ->> 'kind' = 'TEXT'
    ), mode AS MATERIALIZED (
        SELECT a.status = 'closed' AS closed FROM public.administrations a WHERE a.id = administration
    )
    SELECT r.perspective, r.org_unit_id,
           CASE WHEN e.free_text THEN r.answers ELSE r.answers - t.codes END
    FROM entitled e CROSS JOIN text_items t CROSS JOIN mode m
    JOIN public.responses r ON r.administration_id = administration
    WHERE e.scores
      AND r.status = 'submitted'
      AND (m.closed OR EXISTS (SELECT 1 FROM public.results_cuts c
                               WHERE c.administration_id = administration AND c.response_id = r.id))
$$;
