"""The command line: a thin shell around the library (one module per subcommand)."""
