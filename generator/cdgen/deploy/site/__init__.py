"""Static sites on Vercel and Cloudflare Pages: deploy → verify → roll back, stdlib only.

The Kubernetes engine's promises for a site: the deployment that passed is the one promoted
(Vercel) or uploaded (Cloudflare Pages), every deploy is smoke-tested, and a production
deploy whose smoke test fails is rolled back to the deployment that served before it.
"""
