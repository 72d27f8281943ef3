"""Local servers speaking the wire formats of the paid APIs (Document AI v1 REST, Anthropic Messages)."""
