"""The checked model as Z3 terms: number theories, expressions, and the symbolic transition system engines search."""
