"""holdemd: train Texas Hold'em blueprint strategies with external-sampling MCCFR."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("holdemd")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
