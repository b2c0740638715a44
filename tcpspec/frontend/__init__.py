"""Text to syntax: the lark grammar, the parser that builds `frontend.ast`, and variants resolved against their base."""
