"""The independent hand count: a fresh dataset, a reference written from the definitions
(/work/tools/definitions.md, to become docs/analytics.md) and nothing from `tracklog`."""
