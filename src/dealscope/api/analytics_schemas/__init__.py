"""Response models and query parameters of the pipeline, funnel and speed-to-lead dashboards."""
