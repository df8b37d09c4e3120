"""restday — a recovery coach for runners that tells Home Assistant when to take a rest day."""

__version__ = "0.1.0"
