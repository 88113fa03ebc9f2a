"""Test doubles for the deploy engine: a kubectl simulator and smoke-test HTTP servers."""
