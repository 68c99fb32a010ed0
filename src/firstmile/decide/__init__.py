"""The decision engine: what should this user see in onboarding now, and why.

:func:`firstmile.decide.plan.compose` is the pure core; the service feeds it a profile,
its segments and scores and the request context, and logs what was shown.
"""

from firstmile.decide.model import DecisionInput, Plan, Reason
from firstmile.decide.plan import compose

__all__ = ["DecisionInput", "Plan", "Reason", "compose"]
