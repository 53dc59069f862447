"""The web tier: the application factory, portal pages, middleware and wiring of every domain."""
