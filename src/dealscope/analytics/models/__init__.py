"""Statistical models (DESIGN.md §3, §5): they take frames or arrays, never a database
session, and follow scikit-learn manners (`Model(config).fit(frame)`, fitted attributes end
in `_`, randomness from a `numpy.random.Generator` or a seed)."""
