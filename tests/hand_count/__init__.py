"""The independent hand count: a fresh dataset, a reference written from the definitions
(docs/analytics.md) and nothing from `tracklog`."""
