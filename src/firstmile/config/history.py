r"""The versions of the config file a workspace ran, compared (pure).

``firstmile config history`` lists the versions the store recorded as they were loaded;
``firstmile config diff A B`` shows :func:`text_diff` of two of them.

>>> print(text_diff("version: 1\nrules: []\n", "version: 1\nrules: [x]", a="3f2a", b="9c1d"), end="")
--- 3f2a
+++ 9c1d
@@ -1,2 +1,2 @@
 version: 1
-rules: []
+rules: [x]
\ No newline at end of file
>>> text_diff("same\n", "same\n", a="x", b="y")
''
"""  # noqa: E501

from __future__ import annotations

import difflib


def text_diff(before: str, after: str, *, a: str, b: str, context: int = 3) -> str:
    """The unified diff of two file contents, named ``a`` and ``b`` (empty when equal)."""
    lines = []
    for line in difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), a, b, n=context
    ):
        if line.endswith("\n"):
            lines.append(line)
        else:  # the last line of a file without a final newline, as diff(1) shows it
            lines.append(line + "\n\\ No newline at end of file\n")
    return "".join(lines)


__all__ = ["text_diff"]
