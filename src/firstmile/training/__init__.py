"""Training and operating the models on the store's data (the shell around
:mod:`firstmile.ml`): ``firstmile train``, the registry, drift, fairness, hot loading.

Import the submodules themselves (``firstmile.training.run``, ``.loading``, ``.ops``):
this package imports nothing on its own, so that a server without models never loads
scikit-learn (about 60 MB and half a second at start-up).
"""
