"""Models that learn from the users: features, personas, predictions, recommendations.

Everything in this package is pure: functions take rows (attribute objects, the same
ones conditions read) or arrays and return fitted, picklable values. Reading profiles,
storing artifacts and serving them live in the shells above (``firstmile.training``,
``firstmile.storage``, the CLI and the API). ``docs/models.md`` is the reference.
"""
