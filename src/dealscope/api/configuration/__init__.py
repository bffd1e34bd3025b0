"""The tenant's configuration documents (dashboard, alerts, attribution), versioned."""
