-- Template builds, which are also the build queue: workers claim the oldest
-- pending row with FOR UPDATE SKIP LOCKED (no Redis list), so any control-plane
-- replica can run any build.

CREATE TABLE template_builds (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text        NOT NULL,
  base_template text        NOT NULL DEFAULT 'minimal',
  -- array of recipe instruction strings
  recipe        jsonb       NOT NULL DEFAULT '[]',
  healthcheck   text        NOT NULL DEFAULT '',
  vcpus         integer     NOT NULL DEFAULT 1,
  memory_mb     integer     NOT NULL DEFAULT 512,
  status        text        NOT NULL DEFAULT 'pending'
                CONSTRAINT template_builds_status_check
                CHECK (status IN ('pending', 'running', 'success', 'failed', 'cancelled')),
  current_step  integer     NOT NULL DEFAULT 0,
  total_steps   integer     NOT NULL DEFAULT 0,
  -- array of BuildLogEntry objects, appended step by step
  logs          jsonb       NOT NULL DEFAULT '[]',
  error         text        NOT NULL DEFAULT '',
  sandbox_id    uuid,
  host_id       uuid,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  completed_at  timestamptz,
  -- id the resulting template will get (allocated up front)
  template_id   uuid        NOT NULL DEFAULT gen_random_uuid(),
  team_id       uuid        NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
  skip_pre_post boolean     NOT NULL DEFAULT false,
  default_user  text        NOT NULL DEFAULT 'root',
  default_env   jsonb       NOT NULL DEFAULT '{}',
  metadata      jsonb       NOT NULL DEFAULT '{}',
  -- which worker runs it, and when it last reported progress (to fail builds whose worker died)
  claimed_by    text        NOT NULL DEFAULT '',
  heartbeat_at  timestamptz
);
CREATE INDEX template_builds_pending_idx ON template_builds (created_at, id) WHERE status = 'pending';
CREATE INDEX template_builds_created_at_idx ON template_builds (created_at DESC);

-- Optional files uploaded with a build (tar, tar.gz or zip), kept until the
-- build ends: whichever replica claims the build can read them.
CREATE TABLE template_build_archives (
  build_id   uuid        PRIMARY KEY REFERENCES template_builds (id) ON DELETE CASCADE,
  content    bytea       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
