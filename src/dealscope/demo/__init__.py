"""The synthetic brokerage: a seeded, realistic data set for the demo, tests and benchmarks."""
