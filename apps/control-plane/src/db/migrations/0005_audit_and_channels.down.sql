DROP TABLE channels;
DROP TABLE audit_logs;
