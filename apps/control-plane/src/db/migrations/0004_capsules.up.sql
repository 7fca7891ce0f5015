-- Capsules (table "sandboxes", as in the reference) and their metrics:
-- team-level 10 s samples, per-capsule persisted ring buffers, daily usage.

CREATE TABLE sandboxes (
  id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  team_id          uuid        NOT NULL REFERENCES teams (id),
  -- No foreign key: rows outlive the host (they are kept as history after it is deleted).
  host_id          uuid        NOT NULL,
  -- template name as requested; template_id / template_team_id identify the image
  template         text        NOT NULL DEFAULT 'minimal',
  status           text        NOT NULL DEFAULT 'pending'
                   CONSTRAINT sandboxes_status_check
                   CHECK (status IN ('pending', 'running', 'paused', 'stopped', 'error', 'missing')),
  vcpus            integer     NOT NULL DEFAULT 1,
  memory_mb        integer     NOT NULL DEFAULT 512,
  -- inactivity timeout; 0 = never auto-pause (the API default)
  timeout_sec      integer     NOT NULL DEFAULT 0,
  disk_size_mb     integer     NOT NULL DEFAULT 5120,
  guest_ip         text        NOT NULL DEFAULT '',
  host_ip          text        NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  last_active_at   timestamptz,
  last_updated     timestamptz NOT NULL DEFAULT now(),
  template_id      uuid,
  template_team_id uuid,
  -- runtime versions reported by the host agent (kernel, VMM, agent, envd)
  metadata         jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX sandboxes_status_idx ON sandboxes (status);
CREATE INDEX sandboxes_host_id_status_idx ON sandboxes (host_id, status);
CREATE INDEX sandboxes_team_id_created_at_idx ON sandboxes (team_id, created_at DESC);

-- One row per team every sampling period (10 s), pruned after 60 days.
CREATE TABLE sandbox_metrics_snapshots (
  id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id            uuid        NOT NULL,
  sampled_at         timestamptz NOT NULL DEFAULT now(),
  running_count      integer     NOT NULL,
  vcpus_reserved     integer     NOT NULL,
  memory_mb_reserved integer     NOT NULL
);
CREATE INDEX sandbox_metrics_snapshots_team_id_sampled_at_idx ON sandbox_metrics_snapshots (team_id, sampled_at DESC);
CREATE INDEX sandbox_metrics_snapshots_sampled_at_idx ON sandbox_metrics_snapshots (sampled_at);

-- A paused capsule's metric ring buffers, persisted so its charts survive the pause.
CREATE TABLE sandbox_metric_points (
  sandbox_id uuid             NOT NULL,
  tier       text             NOT NULL CONSTRAINT sandbox_metric_points_tier_check CHECK (tier IN ('10m', '2h', '24h')),
  -- unix seconds
  ts         bigint           NOT NULL,
  cpu_pct    double precision NOT NULL,
  mem_bytes  bigint           NOT NULL,
  disk_bytes bigint           NOT NULL,
  PRIMARY KEY (sandbox_id, tier, ts)
);

CREATE TABLE daily_usage (
  team_id        uuid          NOT NULL,
  day            date          NOT NULL,
  cpu_minutes    numeric(18,4) NOT NULL DEFAULT 0,
  ram_mb_minutes numeric(18,4) NOT NULL DEFAULT 0,
  PRIMARY KEY (team_id, day)
);
