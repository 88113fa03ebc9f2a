"""cdgen: a continuous-deployment pipeline for GitHub Actions from a short cdgen.yml."""

__version__ = "0.1.0"
