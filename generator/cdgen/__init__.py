"""cdgen: a continuous-deployment pipeline for GitHub Actions from a short cdgen.yml."""

# A development version between releases; only the commit a release is tagged at carries a
# final version (README, Releasing): cdgen pins its own action by that rule.
__version__ = "0.1.0.dev0"
