"""The `make bench` harness (bench/run.py): tools, processes, load drivers,
scenarios and the report. Standard library only."""
