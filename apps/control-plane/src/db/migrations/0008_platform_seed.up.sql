-- The platform team (all-zero id) owns global templates and admin capsules and
-- never has members; "minimal" is the built-in base template (same all-zero id).

INSERT INTO teams (id, name, slug)
VALUES ('00000000-0000-0000-0000-000000000000', 'Platform', 'platform');

INSERT INTO templates (id, name, type, vcpus, memory_mb, team_id)
VALUES ('00000000-0000-0000-0000-000000000000', 'minimal', 'base', 1, 512, '00000000-0000-0000-0000-000000000000');
