"""Applications built on the platform's domains: each a package of its own (``approval``, …)."""
