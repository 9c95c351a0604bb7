"""A run directory on disk, the truth every tool reads: what training wrote and how to read it.

``snapshots``  the snapshot format: names, manifest JSON and checksum, `SnapshotInfo`
``snapshot_write``  one snapshot, written atomically;  ``snapshot_read``  read back, checked
``store``      a run's snapshots: listing, the newest, retention, making room, crash leftovers
``manifest``   what a snapshot records besides its arrays, and what a resume must agree with
``load``       a snapshot back as config, game and tables (falling back past corrupt ones)
``status``     status.json, the run's live state for scripts;  ``atomic``  the atomic writer

Offline tools (evaluation, lookup) import this, never training/ or service/.
"""
