DROP TABLE daily_usage;
DROP TABLE sandbox_metric_points;
DROP TABLE sandbox_metrics_snapshots;
DROP TABLE sandboxes;
