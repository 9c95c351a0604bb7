"""The training service: supervisor, worker handles, control server, snapshots, metrics, sd_notify."""
