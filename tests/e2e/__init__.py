"""End-to-end tests: `firstmile serve` in a subprocess, real clients."""
