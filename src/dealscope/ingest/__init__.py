"""Ingestion: sources (GHL webhooks and REST sync, files, RESO, FRED), the raw event store,
and the normalizers that write into the warehouse."""
