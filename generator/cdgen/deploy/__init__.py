"""Deploy engine: deploy, verify and roll back a Kubernetes Deployment.

Stdlib only and compatible with Python 3.9: the composite action runs it straight from its
checkout with the runner's ``python3``, so a rollback never depends on a package index.
"""
