"""Test support, importable from every test: the kubectl simulator and smoke-test servers
for the deploy engine, real repositories for `cdgen init`, helpers for generated files."""
