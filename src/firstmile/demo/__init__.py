"""The demo: a simulated onboarding population sent through the real API."""
