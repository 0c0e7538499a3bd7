"""`envdoctor fix`: resolve a known-good set (resolve.py), make it a Plan (plan.py), run it (apply/)."""
