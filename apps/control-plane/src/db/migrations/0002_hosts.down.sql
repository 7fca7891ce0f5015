DROP TABLE host_refresh_tokens;
DROP TABLE host_tags;
DROP TABLE host_tokens;
DROP TABLE hosts;
