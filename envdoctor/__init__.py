"""envdoctor: diagnose a machine for running vLLM, explain what is wrong, and fix it."""

__version__ = "0.1.0"
