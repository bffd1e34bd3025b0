"""Who is calling: tokens, API keys, sessions, and the principal every route receives."""
