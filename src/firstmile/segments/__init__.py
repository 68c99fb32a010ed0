"""Real-time segments: profile attributes, evaluation, and membership changes."""
