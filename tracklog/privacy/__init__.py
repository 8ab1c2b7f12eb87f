"""Privacy beside the pipeline: erasure and access requests, the suppression list, retention.

Every act is written to the audit log. See docs/privacy.md.
"""
