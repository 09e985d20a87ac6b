"""The console adapter: the embedded default, a REPL and a script runner (ADP-1)."""
