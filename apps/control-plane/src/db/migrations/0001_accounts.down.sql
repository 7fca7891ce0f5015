DROP TABLE admin_permissions;
DROP TABLE oauth_providers;
DROP TABLE team_api_keys;
DROP TABLE users_teams;
DROP TABLE users;
DROP TABLE teams;
