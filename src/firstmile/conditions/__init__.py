"""The condition language: GrowthBook's MongoDB-style JSON conditions, compiled to closures.

One language everywhere a condition appears (segments, rules, flows, experiment targeting),
with GrowthBook's operators and JavaScript semantics, plus two firstmile extensions for
relative time (``$within``, ``$olderThan``). ``docs/conditions.md`` is the reference.

>>> from firstmile.conditions import compile_condition, evaluate
>>> is_new_mobile = compile_condition({
...     "device.type": {"$in": ["ios", "android"]},
...     "events.Completed Step.count_7d": {"$lt": 3},
... })
>>> is_new_mobile({"device": {"type": "ios"}, "events": {"Completed Step": {"count_7d": 1}}})
True
>>> sorted(is_new_mobile.attributes)
['device.type', 'events.Completed Step.count_7d']
>>> evaluate({"plan": {"$inGroup": "beta"}}, {"plan": "pro"}, {"beta": ["pro", "team"]})
True
"""

from firstmile.conditions.compile import CompiledCondition, compile_condition, evaluate

__all__ = ["CompiledCondition", "compile_condition", "evaluate"]
