"""One module per API surface: native, Vero, Segment, reads, analytics, privacy, metrics."""
