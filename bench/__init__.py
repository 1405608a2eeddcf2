"""Herald's benchmarks: `python -m bench` prints one table of figures, each against a baseline from the same run."""
