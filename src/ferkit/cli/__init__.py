"""Command-line interface: one verb per job."""
