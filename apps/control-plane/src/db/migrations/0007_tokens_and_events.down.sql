DROP TABLE events;
DROP TABLE one_time_tokens;
