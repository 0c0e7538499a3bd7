"""`check --ray` and `check --cluster`: the same diagnosis on every node of a cluster, and the
drift between nodes that vLLM's multi-node docs ask to avoid (identical environments)."""
