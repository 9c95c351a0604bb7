"""Small stand-ins for holdemd's processes, for tests of failure handling (see worker.py)."""
