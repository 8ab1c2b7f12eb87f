"""The write path: a body in a wire format becomes canonical events, checked and committed.

`wire/` decodes each format (native, Vero, Segment) into Items; `timestamps` parses and
corrects times; `plan` checks events against the tracking plan; `dedupe` gives each event the
id that makes retries idempotent; `suppression` refuses erased users' events; `pipeline`
runs those steps and answers with a receipt; `committer` writes whole groups of requests to
the store in one durable transaction.
"""
