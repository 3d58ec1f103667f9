"""Sub-commands of the `streamlab` command line, one module each."""
