"""The shared ground: the indicator catalog, value parsing, formatting, problem codes, table schemas and the
atomic store of the tidy tables. Imports nothing else of the package."""
