"""Engagement analytics over stored events: one module per report, written once over a dialect.

Reports take a `Scope` (workspace, time range, test events or not) and return plain dicts
that the read API serialises. SQL is built with tracklog.store.query's `Query`, which names
parameters the store's way, and the store's `Dialect`, which holds the few expressions DuckDB
and ClickHouse spell differently.
"""
