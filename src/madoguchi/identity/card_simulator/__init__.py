"""The built-in My Number card simulator: a certificate authority that issues virtual cards to
synthetic residents, and a real OpenID Connect provider that reads them, at /card-simulator.

It stands in for the Digital Agency's authentication app in development, tests and the demo
(``identity.card_oidc.simulator_enabled`` says when it runs). Modules: ``certificates`` (X.509,
as JPKI), ``authority`` (the root and the ID-token key, sealed in the database), ``chip`` (keys
wrapped under the PIN and password, the five-try lock, proof of possession), ``cards`` (issuing
and reading cards), ``residents`` (synthetic people), ``provider`` (the OpenID protocol),
``limits`` (tries per client), and the routes: ``endpoints`` (discovery, JWKS, token), ``pages``
(the card reader's sign-in page and getting a virtual card).
"""
