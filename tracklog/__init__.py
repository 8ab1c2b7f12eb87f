"""Tracklog: self-hostable product-event tracking. `import tracklog` is the SDK's entry point.

It imports the standard library only; the server's modules load their own dependencies.
"""

from tracklog.sdk import APIError, Client, Stats

__all__ = ["APIError", "Client", "Stats"]
__version__ = "0.1.0"
