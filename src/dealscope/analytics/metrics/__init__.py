"""Metric definitions, one module per family; `analytics.registry` collects them."""
