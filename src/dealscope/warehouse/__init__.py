"""The warehouse: one schema on DuckDB or PostgreSQL, its migrations, engines and tenancy."""
