"""Tracklog: self-hostable product-event tracking. `import tracklog` is the SDK's entry point."""

__version__ = "0.1.0"
