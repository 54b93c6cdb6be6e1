-- Instruments: versioned questionnaires owned by the state (county_id NULL) or by one county.
-- A version's content is one document in the orb.instrument/v1 format (see
-- crates/domain/src/instrument/document.rs). Drafts change freely; a published version never
-- changes again, which the database enforces as well as the service.

CREATE TABLE instruments (
    id           uuid PRIMARY KEY,
    county_id    uuid REFERENCES counties (id),
    key          text NOT NULL CHECK (key ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(key) <= 64),
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX instruments_owner_key ON instruments (county_id, key) NULLS NOT DISTINCT;
CREATE INDEX instruments_county ON instruments (county_id);

CREATE TABLE instrument_versions (
    id               uuid PRIMARY KEY,
    instrument_id    uuid NOT NULL REFERENCES instruments (id),
    county_id        uuid REFERENCES counties (id),
    number           integer NOT NULL CHECK (number >= 1),
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'retired')),
    derived_from_id  uuid REFERENCES instrument_versions (id),
    document         jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    published_at     timestamptz,
    retired_at       timestamptz,
    UNIQUE (instrument_id, number),
    CHECK ((status = 'draft') = (published_at IS NULL)),
    CHECK ((status = 'retired') = (retired_at IS NOT NULL))
);
-- One draft at a time per instrument: "the draft" is never ambiguous.
CREATE UNIQUE INDEX instrument_versions_one_draft ON instrument_versions (instrument_id) WHERE status = 'draft';
CREATE INDEX instrument_versions_county ON instrument_versions (county_id);
CREATE INDEX instrument_versions_derived_from ON instrument_versions (derived_from_id);

-- A version belongs to its instrument's owner, and a published or retired version never changes
-- (only published → retired). Errors use SQLSTATE 55000 (object_not_in_prerequisite_state).
CREATE FUNCTION orb.guard_instrument_version() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'instrument version % is % and cannot be deleted', OLD.id, OLD.status
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.county_id IS DISTINCT FROM (SELECT i.county_id FROM public.instruments i WHERE i.id = NEW.instrument_id) THEN
        RAISE EXCEPTION 'an instrument version belongs to its instrument''s owner'
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status <> 'draft' THEN
        IF NEW.document IS DISTINCT FROM OLD.document
           OR NEW.number <> OLD.number
           OR NEW.instrument_id <> OLD.instrument_id
           OR NEW.derived_from_id IS DISTINCT FROM OLD.derived_from_id
           OR NEW.published_at IS DISTINCT FROM OLD.published_at
           OR (OLD.status = 'retired' AND NEW IS DISTINCT FROM OLD)
           OR (OLD.status = 'published' AND NEW.status NOT IN ('published', 'retired')) THEN
            RAISE EXCEPTION 'instrument version % is % and cannot change', OLD.id, OLD.status
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER instrument_versions_guard BEFORE INSERT OR UPDATE OR DELETE ON instrument_versions
    FOR EACH ROW EXECUTE FUNCTION orb.guard_instrument_version();

-- Who reads instruments: the state's are public to every signed-in user; a county's to its
-- members, its active buddies and state faculty.
ALTER TABLE instruments ENABLE ROW LEVEL SECURITY;
ALTER TABLE instruments FORCE ROW LEVEL SECURITY;
CREATE POLICY instruments_read ON instruments FOR SELECT USING (
    (county_id IS NULL AND orb.is_authenticated())
    OR county_id = ANY (orb.member_counties())
    OR county_id = ANY (orb.partner_counties())
    OR orb.has_global_role('faculty'));
CREATE POLICY instruments_write ON instruments FOR ALL
    USING ((county_id IS NULL AND orb.has_global_role('faculty')) OR county_id = ANY (orb.lead_counties()))
    WITH CHECK ((county_id IS NULL AND orb.has_global_role('faculty')) OR county_id = ANY (orb.lead_counties()));

-- Versions: drafts only to their authors (state drafts: faculty; county drafts: the county's
-- lead); published and retired versions like their instrument.
ALTER TABLE instrument_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE instrument_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY instrument_versions_read ON instrument_versions FOR SELECT USING (
    (county_id IS NULL AND orb.has_global_role('faculty'))
    OR county_id = ANY (orb.lead_counties())
    OR (status <> 'draft' AND (
        (county_id IS NULL AND orb.is_authenticated())
        OR county_id = ANY (orb.member_counties())
        OR county_id = ANY (orb.partner_counties())
        OR orb.has_global_role('faculty'))));
CREATE POLICY instrument_versions_write ON instrument_versions FOR ALL
    USING ((county_id IS NULL AND orb.has_global_role('faculty')) OR county_id = ANY (orb.lead_counties()))
    WITH CHECK ((county_id IS NULL AND orb.has_global_role('faculty')) OR county_id = ANY (orb.lead_counties()));

GRANT SELECT, INSERT, UPDATE ON instruments TO orb_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON instrument_versions TO orb_app;
