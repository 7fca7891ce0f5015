-- Audit log and notification channels.

CREATE TABLE audit_logs (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- No foreign key: the log outlives teams; platform events use the all-zero team.
  team_id       uuid        NOT NULL,
  actor_type    text        NOT NULL CONSTRAINT audit_logs_actor_type_check CHECK (actor_type IN ('user', 'api_key', 'system')),
  -- prefixed id (usr-…, key-…); NULL for system actors and anonymised users
  actor_id      text,
  actor_name    text        NOT NULL DEFAULT '',
  resource_type text        NOT NULL,
  resource_id   text,
  action        text        NOT NULL,
  scope         text        NOT NULL DEFAULT 'team' CONSTRAINT audit_logs_scope_check CHECK (scope IN ('team', 'admin')),
  status        text        NOT NULL DEFAULT 'success'
                CONSTRAINT audit_logs_status_check CHECK (status IN ('success', 'info', 'warning', 'error')),
  metadata      jsonb       NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Keyset pagination walks (created_at, id) downwards within a team.
CREATE INDEX audit_logs_team_id_created_at_id_idx ON audit_logs (team_id, created_at DESC, id DESC);
CREATE INDEX audit_logs_team_id_resource_type_created_at_idx ON audit_logs (team_id, resource_type, created_at DESC);
CREATE INDEX audit_logs_actor_id_idx ON audit_logs (actor_id);

CREATE TABLE channels (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  team_id     uuid        NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  name        text        NOT NULL,
  provider    text        NOT NULL,
  -- field → base64(AES-256-GCM nonce ‖ ciphertext); never returned by the API
  config      jsonb       NOT NULL DEFAULT '{}',
  event_types text[]      NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  -- Also serves lookups by team_id (its leading column).
  CONSTRAINT channels_team_id_name_key UNIQUE (team_id, name)
);
