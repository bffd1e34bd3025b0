"""Base utilities shared by every layer: they import nothing else of DealScope."""
