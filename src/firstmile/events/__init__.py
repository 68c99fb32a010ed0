"""The ingest pipeline's pure stages: envelope, validate, normalize, enrich, consent."""
