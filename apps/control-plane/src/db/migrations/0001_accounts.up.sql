-- Accounts: teams, users, memberships, API keys, OAuth identities, admin permissions.
-- Primary keys are UUIDv4 (the API shows them as prefixed base36 ids).

CREATE TABLE teams (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text        NOT NULL,
  slug       text        NOT NULL CONSTRAINT teams_slug_key UNIQUE,
  is_byoc    boolean     NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Teams are soft-deleted; memberships stay and are filtered by deleted_at IS NULL.
  deleted_at timestamptz
);

CREATE TABLE users (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text        NOT NULL,
  -- bcrypt hash; NULL for accounts that only sign in through OAuth.
  password_hash text,
  name          text        NOT NULL DEFAULT '',
  is_admin      boolean     NOT NULL DEFAULT false,
  -- inactive: awaiting email activation; deleted: soft-deleted, purged after 15 days.
  status        text        NOT NULL DEFAULT 'active'
                CONSTRAINT users_status_check CHECK (status IN ('inactive', 'active', 'disabled', 'deleted')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  deleted_at    timestamptz
);
-- One account per address whatever its case ("A@x.io" and "a@x.io" are the same mailbox in practice).
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE users_teams (
  user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  team_id    uuid        NOT NULL REFERENCES teams (id),
  is_default boolean     NOT NULL DEFAULT false,
  role       text        NOT NULL DEFAULT 'member'
             CONSTRAINT users_teams_role_check CHECK (role IN ('owner', 'admin', 'member')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (team_id, user_id)
);
CREATE INDEX users_teams_user_id_idx ON users_teams (user_id);
-- Invariants the services rely on: a team has one owner, a user one default team.
CREATE UNIQUE INDEX users_teams_one_owner_key ON users_teams (team_id) WHERE role = 'owner';
CREATE UNIQUE INDEX users_teams_one_default_key ON users_teams (user_id) WHERE is_default;

CREATE TABLE team_api_keys (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  team_id    uuid        NOT NULL REFERENCES teams (id),
  name       text        NOT NULL DEFAULT '',
  -- hex SHA-256 of the plaintext key, which is shown once and never stored.
  key_hash   text        NOT NULL CONSTRAINT team_api_keys_key_hash_key UNIQUE,
  key_prefix text        NOT NULL DEFAULT '',
  created_by uuid        REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used  timestamptz
);
CREATE INDEX team_api_keys_team_id_idx ON team_api_keys (team_id);
CREATE INDEX team_api_keys_created_by_idx ON team_api_keys (created_by);

CREATE TABLE oauth_providers (
  provider    text        NOT NULL,
  -- the provider's own account id (GitHub's numeric id as text)
  provider_id text        NOT NULL,
  user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email       text        NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, provider_id)
);
-- A user links at most one account per provider (unlinking is by provider name).
CREATE UNIQUE INDEX oauth_providers_user_provider_key ON oauth_providers (user_id, provider);

CREATE TABLE admin_permissions (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  permission text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT admin_permissions_user_permission_key UNIQUE (user_id, permission)
);
