"""Settings: read once from ``NEWSSTREAM_*`` variables (:mod:`.settings`), handed to each
consumer as the view it needs (:mod:`.views`)."""

from stream.config import views
from stream.config.settings import Settings, SettingsError, load_settings, unknown_variables
from stream.config.views import (
    Connection,
    Counting,
    Dashboard,
    Entities,
    Limits,
    Topics,
    Web,
    Worker,
)

__all__ = [
    "Connection",
    "Counting",
    "Dashboard",
    "Entities",
    "Limits",
    "Settings",
    "SettingsError",
    "Topics",
    "Web",
    "Worker",
    "load_settings",
    "unknown_variables",
    "views",
]
