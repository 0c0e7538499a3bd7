"""Exit codes of every command (docs/exit-codes.md); a module of its own so the CLI can name
them without loading the probes."""

EXIT_OK, EXIT_WARN, EXIT_ERROR, EXIT_CANNOT_CHECK, EXIT_USAGE = 0, 1, 2, 3, 4
# Standard output was closed by its reader (`| head`): 128 + SIGPIPE, as a shell reports it.
EXIT_CLOSED_STDOUT = 141
