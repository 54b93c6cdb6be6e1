-- Collecting responses: administrations (waves), invitation codes, the open link, responses.
--
-- Anonymity by construction: an invitation response's id is derived from its code by a one-way
-- hash (see crates/domain/src/collection.rs), so the database cannot join an invitation to its
-- response without the code, and an anonymous response stores no invitation id, no precise
-- time (only days), no network address and no device.
--
-- Respondents have no account. A respondent request runs with transaction-local settings that
-- name exactly one response, its administration and county (and, for an invitation, the
-- invitation):
--   orb.respondent_response, orb.respondent_administration, orb.respondent_county,
--   orb.respondent_invitation

CREATE FUNCTION orb.respondent_response() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT nullif(current_setting('orb.respondent_response', true), '')::uuid $$;

CREATE FUNCTION orb.respondent_administration() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT nullif(current_setting('orb.respondent_administration', true), '')::uuid $$;

CREATE FUNCTION orb.respondent_county() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT nullif(current_setting('orb.respondent_county', true), '')::uuid $$;

CREATE FUNCTION orb.respondent_invitation() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT nullif(current_setting('orb.respondent_invitation', true), '')::uuid $$;

CREATE TABLE administrations (
    county_id              uuid NOT NULL REFERENCES counties (id),
    id                     uuid NOT NULL,
    instrument_version_id  uuid NOT NULL REFERENCES instrument_versions (id),
    title                  text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    status                 text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
    opens_at               timestamptz NOT NULL,
    closes_at              timestamptz NOT NULL,
    perspectives           text[] NOT NULL CHECK (cardinality(perspectives) > 0),
    languages              text[] NOT NULL CHECK (cardinality(languages) > 0),
    anonymity              text NOT NULL CHECK (anonymity IN ('ANONYMOUS', 'CONFIDENTIAL')),
    min_group_size         integer NOT NULL DEFAULT 5 CHECK (min_group_size >= 3),
    open_link_hash         bytea UNIQUE,
    open_link_cap          integer CHECK (open_link_cap > 0),
    results_released_at    timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    opened_at              timestamptz,
    closed_at              timestamptz,
    PRIMARY KEY (county_id, id),
    UNIQUE (id),
    CHECK (closes_at > opens_at)
);
CREATE INDEX administrations_version ON administrations (instrument_version_id);

CREATE TABLE invitations (
    county_id          uuid NOT NULL,
    id                 uuid NOT NULL,
    administration_id  uuid NOT NULL,
    batch_id           uuid NOT NULL,
    code_hash          bytea NOT NULL UNIQUE,
    perspective        text,
    org_unit_id        uuid,
    status             text NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'started', 'submitted', 'revoked')),
    created_on         date NOT NULL DEFAULT current_date,
    PRIMARY KEY (county_id, id),
    UNIQUE (id),
    FOREIGN KEY (county_id, administration_id) REFERENCES administrations (county_id, id),
    FOREIGN KEY (county_id, org_unit_id) REFERENCES org_units (county_id, id)
);
CREATE INDEX invitations_administration ON invitations (administration_id, status);

CREATE TABLE responses (
    county_id           uuid NOT NULL,
    id                  uuid NOT NULL,
    administration_id   uuid NOT NULL,
    source              text NOT NULL CHECK (source IN ('invitation', 'open_link', 'paper')),
    status              text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'submitted')),
    perspective         text,
    org_unit_id         uuid,
    language            text NOT NULL,
    answers             jsonb NOT NULL DEFAULT '{}'::jsonb,
    invitation_id       uuid,
    submit_key          text,
    submit_fingerprint  bytea,
    started_on          date NOT NULL DEFAULT current_date,
    submitted_on        date,
    submitted_at        timestamptz,
    PRIMARY KEY (county_id, id),
    UNIQUE (id),
    UNIQUE (administration_id, submit_key),
    FOREIGN KEY (county_id, administration_id) REFERENCES administrations (county_id, id),
    FOREIGN KEY (county_id, org_unit_id) REFERENCES org_units (county_id, id),
    FOREIGN KEY (county_id, invitation_id) REFERENCES invitations (county_id, id),
    CHECK ((status = 'submitted') = (submitted_on IS NOT NULL)),
    CHECK ((status = 'submitted') = (submit_fingerprint IS NOT NULL))
);
CREATE INDEX responses_administration ON responses (administration_id, status);

-- A submitted response never changes, and an anonymous one never carries an invitation id
-- or a precise time.
CREATE FUNCTION orb.guard_response() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public
AS $$
DECLARE
    mode text;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'submitted' THEN
        RAISE EXCEPTION 'a submitted response cannot change' USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.status = 'submitted' THEN
            RAISE EXCEPTION 'a submitted response cannot be deleted' USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN OLD;
    END IF;
    SELECT a.anonymity INTO mode FROM public.administrations a WHERE a.id = NEW.administration_id;
    IF mode = 'ANONYMOUS' AND (NEW.invitation_id IS NOT NULL OR NEW.submitted_at IS NOT NULL) THEN
        RAISE EXCEPTION 'an anonymous response links to no invitation and keeps no precise time'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER responses_guard BEFORE INSERT OR UPDATE OR DELETE ON responses
    FOR EACH ROW EXECUTE FUNCTION orb.guard_response();

ALTER TABLE administrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE administrations FORCE ROW LEVEL SECURITY;
CREATE POLICY administrations_read ON administrations FOR SELECT USING (
    county_id = ANY (orb.member_counties())
    OR county_id = ANY (orb.partner_counties())
    OR orb.has_global_role('faculty')
    OR id = orb.respondent_administration());
CREATE POLICY administrations_write ON administrations FOR ALL
    USING (county_id = ANY (orb.lead_counties()))
    WITH CHECK (county_id = ANY (orb.lead_counties()));

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY invitations_lead ON invitations FOR ALL
    USING (county_id = ANY (orb.lead_counties()))
    WITH CHECK (county_id = ANY (orb.lead_counties()));
CREATE POLICY invitations_respondent_read ON invitations FOR SELECT USING (id = orb.respondent_invitation());
CREATE POLICY invitations_respondent_update ON invitations FOR UPDATE
    USING (id = orb.respondent_invitation()) WITH CHECK (id = orb.respondent_invitation());

-- Responses: a respondent reaches their own; a lead enters paper forms and counts their
-- county's; nobody else reads a single response (results read aggregates through the store).
ALTER TABLE responses ENABLE ROW LEVEL SECURITY;
ALTER TABLE responses FORCE ROW LEVEL SECURITY;
CREATE POLICY responses_respondent ON responses FOR ALL
    USING (id = orb.respondent_response())
    WITH CHECK (id = orb.respondent_response()
                AND administration_id = orb.respondent_administration()
                AND county_id = orb.respondent_county());
CREATE POLICY responses_lead ON responses FOR ALL
    USING (county_id = ANY (orb.lead_counties()))
    WITH CHECK (county_id = ANY (orb.lead_counties()));

-- What a respondent may read besides their response: their administration's instrument
-- version and their county's public facts.
CREATE POLICY instrument_versions_respondent ON instrument_versions FOR SELECT USING (
    id = (SELECT a.instrument_version_id FROM administrations a WHERE a.id = orb.respondent_administration()));
CREATE POLICY counties_respondent ON counties FOR SELECT USING (id = orb.respondent_county());

-- Exchanging a code: find what it opens before anyone is known. Returns nothing for an
-- unknown or revoked code.
CREATE FUNCTION orb.resolve_access_code(hash bytea)
    RETURNS TABLE (kind text, county_id uuid, administration_id uuid, invitation_id uuid,
                   perspective text, org_unit_id uuid, invitation_status text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT 'invitation', i.county_id, i.administration_id, i.id, i.perspective, i.org_unit_id, i.status
    FROM public.invitations i WHERE i.code_hash = hash AND i.status <> 'revoked'
    UNION ALL
    SELECT 'open_link', a.county_id, a.id, NULL, NULL, NULL, NULL
    FROM public.administrations a WHERE a.open_link_hash = hash
$$;
REVOKE ALL ON FUNCTION orb.resolve_access_code(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orb.resolve_access_code(bytea) TO orb_app;

-- How many responses an open link has taken, for its cap: a respondent cannot count other
-- respondents' rows, so this narrow function does.
CREATE FUNCTION orb.open_link_responses(administration uuid) RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT count(*) FROM public.responses r
    WHERE r.administration_id = administration AND r.source = 'open_link'
      AND administration = orb.respondent_administration()
$$;
REVOKE ALL ON FUNCTION orb.open_link_responses(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orb.open_link_responses(uuid) TO orb_app;

GRANT SELECT, INSERT, UPDATE ON administrations TO orb_app;
GRANT SELECT, INSERT, UPDATE ON invitations TO orb_app;
GRANT SELECT, INSERT, UPDATE ON responses TO orb_app;

-- A respondent picks their own unit from their county's units (self-reported in anonymous mode).
CREATE POLICY org_units_respondent ON org_units FOR SELECT USING (county_id = orb.respondent_county());
