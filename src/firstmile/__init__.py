"""firstmile: personalize user onboarding from the events an app already tracks."""

__version__ = "0.1.0"
