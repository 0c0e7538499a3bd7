"""`envdoctor fix --apply`: carry a Plan out in a new environment (run.py), downloading every file
into a wheelhouse first (wheelhouse.py, download.py) and installing from there with no network."""
