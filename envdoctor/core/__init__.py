"""Plain data every layer shares, with no I/O: the areas, facts, findings, results and exit codes."""
