"""The HTTP layer: the ASGI app and what every request passes through (keys, limits, CORS).

`routes/` holds one module per API surface; each reads its request, calls into the write path
(tracklog.ingest) or the read path (tracklog.analytics, tracklog.store) and answers JSON.
"""
