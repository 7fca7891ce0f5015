-- Templates: root filesystem images (base) and full VM snapshots (snapshot).
-- team_id is the owning team, or the all-zero platform team for global
-- templates every team can use (no foreign key: the platform team is a seed
-- row that may be absent while migrating down).

CREATE TABLE templates (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text        NOT NULL,
  type         text        NOT NULL DEFAULT 'base'
               CONSTRAINT templates_type_check CHECK (type IN ('base', 'snapshot')),
  vcpus        integer     NOT NULL DEFAULT 1,
  memory_mb    integer     NOT NULL DEFAULT 512,
  size_bytes   bigint      NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  team_id      uuid        NOT NULL,
  default_user text        NOT NULL DEFAULT 'root',
  default_env  jsonb       NOT NULL DEFAULT '{}',
  metadata     jsonb       NOT NULL DEFAULT '{}',
  -- Also serves lookups by team_id (its leading column).
  CONSTRAINT templates_team_id_name_key UNIQUE (team_id, name)
);

-- A team template may not take the name of a global template: capsules name
-- their template, and the name must resolve to one image for that team.
CREATE FUNCTION check_global_template_name_collision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.team_id <> '00000000-0000-0000-0000-000000000000'::uuid AND EXISTS (
    SELECT 1 FROM templates
    WHERE team_id = '00000000-0000-0000-0000-000000000000'::uuid AND name = NEW.name
  ) THEN
    RAISE EXCEPTION 'template name "%" is reserved by a global template', NEW.name
      USING ERRCODE = 'unique_violation', CONSTRAINT = 'templates_reserved_global_name';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER trg_check_global_template_name
  BEFORE INSERT OR UPDATE ON templates
  FOR EACH ROW EXECUTE FUNCTION check_global_template_name_collision();
