"""Renderers: words, tables and documents for findings, plans, fits and explanations. They decide nothing."""
