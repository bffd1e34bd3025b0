"""GoHighLevel: webhook authentication, event parsing and the upserts into the warehouse."""
