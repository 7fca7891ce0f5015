-- PostgreSQL replacements for the reference's Redis keys:
--   one_time_tokens  activation (30 min), password reset (15 min) and host
--                    registration (1 h) tokens, consumed with DELETE … RETURNING
--   events           outbox of platform events for the notification channels,
--                    announced with NOTIFY and claimed with FOR UPDATE SKIP LOCKED

CREATE TABLE one_time_tokens (
  -- hex SHA-256 of the plaintext token, which only its recipient ever holds
  token_hash text        PRIMARY KEY,
  purpose    text        NOT NULL
             CONSTRAINT one_time_tokens_purpose_check CHECK (purpose IN ('activation', 'password_reset', 'host_registration')),
  -- the user (activation, password reset) or host (registration) the token is for
  subject_id uuid        NOT NULL,
  payload    jsonb       NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX one_time_tokens_expires_at_idx ON one_time_tokens (expires_at);
CREATE INDEX one_time_tokens_purpose_subject_idx ON one_time_tokens (purpose, subject_id);

CREATE TABLE events (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id      uuid        NOT NULL,
  type         text        NOT NULL,
  payload      jsonb       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  status       text        NOT NULL DEFAULT 'pending'
               CONSTRAINT events_status_check CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts     integer     NOT NULL DEFAULT 0,
  -- not claimable before this (retry backoff)
  available_at timestamptz NOT NULL DEFAULT now(),
  -- a claim is a lease: a dispatcher that dies lets its events become claimable again
  locked_until timestamptz,
  finished_at  timestamptz,
  last_error   text        NOT NULL DEFAULT ''
);
CREATE INDEX events_pending_idx ON events (available_at, id) WHERE status = 'pending';
CREATE INDEX events_finished_at_idx ON events (finished_at) WHERE status <> 'pending';
