"""run-smoke: a real vLLM generation in the target interpreter, as the end-to-end proof."""
