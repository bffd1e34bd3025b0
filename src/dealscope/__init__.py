"""DealScope: self-hostable revenue intelligence for real-estate brokerages."""

__version__ = "0.1.0"
