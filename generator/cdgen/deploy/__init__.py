"""Deploy engine (stdlib only)."""
