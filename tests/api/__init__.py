"""HTTP tests of the tracking API, in process, on a real SQLite file."""
