-- Hosts (machines running a host agent), their registration-token audit trail,
-- tags and refresh tokens. The one-time registration tokens themselves live in
-- one_time_tokens (0007).

CREATE TABLE hosts (
  id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- regular: platform capacity; byoc: a team's own machine (team_id set)
  type              text        NOT NULL DEFAULT 'regular'
                    CONSTRAINT hosts_type_check CHECK (type IN ('regular', 'byoc')),
  team_id           uuid        REFERENCES teams (id),
  provider          text        NOT NULL DEFAULT '',
  availability_zone text        NOT NULL DEFAULT '',
  arch              text        NOT NULL DEFAULT '',
  cpu_cores         integer     NOT NULL DEFAULT 0,
  memory_mb         integer     NOT NULL DEFAULT 0,
  disk_gb           integer     NOT NULL DEFAULT 0,
  -- ip:port the agent advertised at registration
  address           text        NOT NULL DEFAULT '',
  status            text        NOT NULL DEFAULT 'pending'
                    CONSTRAINT hosts_status_check CHECK (status IN ('pending', 'online', 'unreachable', 'draining', 'offline')),
  last_heartbeat_at timestamptz,
  metadata          jsonb       NOT NULL DEFAULT '{}',
  created_by        uuid        REFERENCES users (id) ON DELETE SET NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  -- hex SHA-256 of the DER of the host's current TLS certificate
  cert_fingerprint  text        NOT NULL DEFAULT '',
  cert_expires_at   timestamptz,
  CONSTRAINT hosts_byoc_team_check CHECK (type <> 'byoc' OR team_id IS NOT NULL)
);
CREATE INDEX hosts_type_idx ON hosts (type);
CREATE INDEX hosts_team_id_idx ON hosts (team_id);
CREATE INDEX hosts_status_idx ON hosts (status);

CREATE TABLE host_tokens (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  host_id    uuid        NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  created_by uuid        REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX host_tokens_host_id_idx ON host_tokens (host_id);

CREATE TABLE host_tags (
  host_id uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  tag     text NOT NULL,
  PRIMARY KEY (host_id, tag)
);
CREATE INDEX host_tags_tag_idx ON host_tags (tag);

CREATE TABLE host_refresh_tokens (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  host_id    uuid        NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  -- hex SHA-256 of the plaintext token
  token_hash text        NOT NULL CONSTRAINT host_refresh_tokens_token_hash_key UNIQUE,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX host_refresh_tokens_host_id_idx ON host_refresh_tokens (host_id);
