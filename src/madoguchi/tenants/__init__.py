"""Public bodies (tenants), their areas, and postal codes. Other domains use ``service`` only."""
