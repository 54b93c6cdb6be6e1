-- Respondent privacy (issue 14).
--
-- Revocation is its own fact, beside the code's progress: revoking no longer overwrites
-- issued/started/submitted, so the counts a lead reads (`invitationCounts`) do not move
-- differently for a code that was used to submit and one that was not, and revoking answers
-- the same whatever the code's state. A revoked code resolves to nothing (it cannot start or
-- submit); a response already submitted with it still counts. Codes revoked before this
-- migration lost their progress when they were revoked: they become issued and revoked.
ALTER TABLE invitations ADD COLUMN revoked boolean NOT NULL DEFAULT false;
UPDATE invitations SET revoked = true, status = 'issued' WHERE status = 'revoked';

CREATE OR REPLACE FUNCTION orb.resolve_access_code(hash bytea)
    RETURNS TABLE (kind text, county_id uuid, administration_id uuid, invitation_id uuid,
                   perspective text, org_unit_id uuid, invitation_status text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT 'invitation', i.county_id, i.administration_id, i.id, i.perspective, i.org_unit_id, i.status
    FROM public.invitations i WHERE i.code_hash = hash AND NOT i.revoked AND i.status <> 'revoked'
    UNION ALL
    SELECT 'open_link', a.county_id, a.id, NULL, NULL, NULL, NULL
    FROM public.administrations a WHERE a.open_link_hash = hash
$$;

-- When the county's lead first read the raw rows of the closed wave (`responses.csv`,
-- `Administration.responses`). From then on the wave cannot reopen: raw rows read at one close
-- and again at a later one would give the late respondents' rows by difference.
ALTER TABLE administrations ADD COLUMN raw_rows_read_at timestamptz;
