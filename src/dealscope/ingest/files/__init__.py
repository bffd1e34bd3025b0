"""File imports: CSV, XLSX, Parquet (and JSON listings) into the warehouse, all or nothing.

`service.import_file` is the entry point (the CLI's `dealscope ingest file` and the API's
`POST /api/v1/ingest/{kind}` both call it). Nothing is imported here, so the kinds' modules
can import each other's parts freely.
"""
