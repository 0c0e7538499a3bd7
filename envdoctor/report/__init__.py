"""`check --from-report` and `report`: a pasted collect_env report read as facts (collect_env.py) and as a log (text_findings.py)."""
