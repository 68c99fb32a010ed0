"""The context tree: it finds planted splits, and its leaves are correct conditions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.bandits import ContextTree, TreeAttribute, TreeRow, fit_context_tree
from firstmile.conditions import evaluate

from .helpers import assert_nan_free

DEVICE = TreeAttribute("device.type")
AGE = TreeAttribute("traits.age", "numeric")
PLAN = TreeAttribute("traits.plan")


def _population(seed: int, n: int, rate: Any, arms: tuple[str, ...] = ("A", "B")) -> list[TreeRow]:
    """Users with random attributes and arms; ``rate(attributes, arm)`` is the conversion."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        attributes = {
            "device": {"type": str(rng.choice(["mobile", "desktop"]))},
            "traits": {"age": int(rng.integers(18, 70)), "plan": str(rng.choice(["free", "pro"]))},
        }
        arm = str(rng.choice(arms))
        rows.append(TreeRow(attributes, arm, float(rng.random() < rate(attributes, arm))))
    return rows


def _leaf_of(tree: ContextTree, attributes: dict[str, Any]) -> list[str]:
    return [leaf.key for leaf in tree.leaves if evaluate(dict(leaf.condition), attributes)]


def test_recovers_a_planted_device_split() -> None:
    def rate(attributes: dict[str, Any], arm: str) -> float:
        mobile = attributes["device"]["type"] == "mobile"
        return 0.30 if (arm == "B") == mobile else 0.15

    rows = _population(11, 8000, rate)
    tree = fit_context_tree(rows, [DEVICE, AGE, PLAN], ("A", "B"), min_leaf=100)
    assert [(leaf.condition, leaf.best_arm) for leaf in tree.leaves] == [
        ({"device.type": "mobile"}, "B"),
        ({"device.type": {"$ne": "mobile"}}, "A"),
    ]
    assert sum(leaf.n for leaf in tree.leaves) == tree.n == 8000
    # Every row matches exactly one leaf, the one the fitter counted it in.
    for row in rows[:500]:
        keys = _leaf_of(tree, dict(row.attributes))
        mobile = row.attributes["device"]["type"] == "mobile"
        assert keys == (["leaf-1"] if mobile else ["leaf-2"])
    assert [context.key for context in tree.contexts()] == ["leaf-1", "leaf-2"]


def test_recovers_a_depth_two_split_with_a_numeric_threshold() -> None:
    def rate(attributes: dict[str, Any], arm: str) -> float:
        if attributes["device"]["type"] == "desktop":
            return {"A": 0.35, "B": 0.15, "C": 0.15}[arm]
        young = attributes["traits"]["age"] < 30
        return {"A": 0.10, "B": 0.40 if young else 0.20, "C": 0.20 if young else 0.40}[arm]

    rows = _population(5, 15_000, rate, ("A", "B", "C"))
    tree = fit_context_tree(rows, [DEVICE, AGE, PLAN], ("A", "B", "C"), min_leaf=150)
    best = {leaf.best_arm: leaf for leaf in tree.leaves}
    assert set(best) == {"A", "B", "C"}
    assert len(tree.leaves) == 3
    assert best["A"].condition == {"device.type": "desktop"}
    young, old = best["B"].condition, best["C"].condition
    assert young["device.type"] == {"$ne": "desktop"}
    assert old["device.type"] == {"$ne": "desktop"}
    threshold = young["traits.age"]["$lt"]
    assert old["traits.age"] == {"$gte": threshold}
    assert 26 <= threshold <= 34
    assert isinstance(threshold, int)
    for leaf in tree.leaves:
        assert all(item.n >= 150 for item in leaf.arms)
    for row in rows[:500]:
        assert len(_leaf_of(tree, dict(row.attributes))) == 1


def test_no_difference_no_split() -> None:
    rows = _population(2, 4000, lambda attributes, arm: 0.2)
    tree = fit_context_tree(rows, [DEVICE, AGE, PLAN], ("A", "B"), min_leaf=50)
    assert len(tree.leaves) == 1
    assert tree.leaves[0].condition == {}
    assert tree.contexts()[0].condition == {}


def test_min_leaf_and_depth_limit_splits() -> None:
    def rate(attributes: dict[str, Any], arm: str) -> float:
        mobile = attributes["device"]["type"] == "mobile"
        return 0.30 if (arm == "B") == mobile else 0.15

    rows = _population(11, 2000, rate)
    assert len(fit_context_tree(rows, [DEVICE], ("A", "B"), min_leaf=600).leaves) == 1
    assert len(fit_context_tree(rows, [DEVICE], ("A", "B"), max_depth=0).leaves) == 1
    assert len(fit_context_tree(rows, [DEVICE], ("A", "B"), min_leaf=100).leaves) == 2


def test_repeated_attribute_conditions_use_and() -> None:
    # Three device types: tablet users prefer C, phone users B, the rest A.
    rng = np.random.default_rng(8)
    best = {"phone": "B", "tablet": "C", "desktop": "A"}
    rows = []
    for _ in range(9000):
        device = str(rng.choice(list(best)))
        arm = str(rng.choice(["A", "B", "C"]))
        rate = 0.4 if best[device] == arm else 0.1
        rows.append(TreeRow({"device": {"type": device}}, arm, float(rng.random() < rate)))
    tree = fit_context_tree(rows, [DEVICE], ("A", "B", "C"), min_leaf=100)
    assert len(tree.leaves) == 3
    nested = [leaf.condition for leaf in tree.leaves if "$and" in leaf.condition]
    assert len(nested) == 2
    for device, arm in best.items():
        matched = [
            leaf
            for leaf in tree.leaves
            if evaluate(dict(leaf.condition), {"device": {"type": device}})
        ]
        assert [leaf.best_arm for leaf in matched] == [arm]


def test_numeric_values_are_read_as_conditions_compare_them() -> None:
    rng = np.random.default_rng(4)
    rows = []
    for i in range(4000):
        seats: Any = int(rng.integers(0, 20))
        if i % 50 == 0:
            seats = "many"  # never compares: matches no leaf
        elif i % 50 == 1:
            seats = None  # compares as 0
        elif i % 50 == 2:
            seats = str(seats)  # numeric text compares as its number
        arm = str(rng.choice(["A", "B"]))
        small = not isinstance(seats, str) or seats.isdigit()
        value = 0 if seats is None else int(seats) if small else 99
        rate = 0.4 if (arm == "A") == (value < 10) else 0.1
        rows.append(TreeRow({"seats": seats}, arm, float(rng.random() < rate)))
    tree = fit_context_tree(rows, [TreeAttribute("seats", "numeric")], ("A", "B"), min_leaf=100)
    assert [leaf.condition for leaf in tree.leaves] == [
        {"seats": {"$lt": 10}},
        {"seats": {"$gte": 10}},
    ]
    assert any("cannot be compared as a number" in w for w in tree.warnings)
    assert sum(leaf.n for leaf in tree.leaves) == 4000 - 80
    for row in rows[:200]:
        matched = _leaf_of(tree, dict(row.attributes))
        assert len(matched) == (0 if row.attributes["seats"] == "many" else 1)


def test_non_string_categories_use_eq() -> None:
    rng = np.random.default_rng(9)
    rows = []
    for _ in range(3000):
        beta = bool(rng.random() < 0.5)
        arm = str(rng.choice(["A", "B"]))
        rate = 0.4 if (arm == "B") == beta else 0.1
        rows.append(TreeRow({"beta": beta}, arm, float(rng.random() < rate)))
    tree = fit_context_tree(rows, [TreeAttribute("beta")], ("A", "B"), min_leaf=100)
    conditions = [leaf.condition for leaf in tree.leaves]
    assert conditions[0]["beta"] in ({"$eq": True}, {"$eq": False})
    assert conditions[1]["beta"]["$ne"] == conditions[0]["beta"]["$eq"]


def test_json_and_empty_input() -> None:
    tree = fit_context_tree([], [DEVICE], ("A", "B"))
    assert tree.n == 0
    assert tree.leaves[0].best_arm is None
    data = tree.to_json()
    assert data["leaves"][0]["condition"] == {}
    assert data["leaves"][0]["arms"] == {"A": {"n": 0, "mean": None}, "B": {"n": 0, "mean": None}}
    assert "no rows" in data["warnings"][0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rows": [TreeRow({}, "Z", 1.0)]}, "arm 'Z', not one of"),
        ({"rows": [TreeRow({}, "A", float("nan"))]}, "reward must be a finite number"),
        ({"rows": [("A", 1.0)]}, "must be a TreeRow"),
        ({"attributes": [DEVICE, DEVICE]}, "attribute paths must be unique"),
        ({"attributes": ["device.type"]}, "must be TreeAttribute values"),
        ({"max_depth": 3}, "max_depth must be 0, 1 or 2"),
        ({"min_leaf": 1}, "min_leaf must be >= 2"),
        ({"arms": ("A",)}, "at least two arms"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"rows": [], "attributes": [DEVICE], "arms": ("A", "B"), **kwargs}
    rows, attributes, arms = (
        arguments.pop("rows"),
        arguments.pop("attributes"),
        arguments.pop("arms"),
    )
    with pytest.raises(ValueError, match=message):
        fit_context_tree(rows, attributes, arms, **arguments)


def test_bad_attribute_kind() -> None:
    with pytest.raises(ValueError, match="kind must be 'categorical' or 'numeric'"):
        TreeAttribute("age", "ordinal")  # type: ignore[arg-type]


row_strategy = st.builds(
    TreeRow,
    st.fixed_dictionaries(
        {
            "device": st.fixed_dictionaries({"type": st.sampled_from(["mobile", "desktop", 3])}),
            "seats": st.none() | st.integers(-5, 50) | st.sampled_from(["7", "many", True]),
        }
    ),
    st.sampled_from(["A", "B"]),
    st.sampled_from([0.0, 1.0, 1e300, -1e300]) | st.floats(-10, 10),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(row_strategy, max_size=60))
def test_any_rows_give_nan_free_leaves(rows: list[TreeRow]) -> None:
    attributes = [DEVICE, TreeAttribute("seats", "numeric")]
    tree = fit_context_tree(rows, attributes, ("A", "B"), min_leaf=2, min_z=0.0)
    assert_nan_free(tree)
    assert_nan_free(tree.to_json())
    assert sum(leaf.n for leaf in tree.leaves) <= len(rows)
    for row in rows:
        assert len(_leaf_of(tree, dict(row.attributes))) <= 1
