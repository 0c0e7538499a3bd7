"""`envdoctor check`: probe, judge with the rules, decide the exit code (run.py); the pre-install gate
(gate.py); the cluster (cluster/)."""
