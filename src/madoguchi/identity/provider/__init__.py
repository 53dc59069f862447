"""madoguchi as an OpenID Connect provider for other government services ([P3] item 9).

- ``keys``: the provider's own signing keys (sealed in the database, rotated, published as JWKS).
- ``claims``: scopes and the attributes they release, pairwise subjects, assurance as ``acr``.
- ``clients``: registered clients and their authentication by ``private_key_jwt`` (RFC 7523).
- ``service``: authorization requests, consents, codes, tokens and userinfo.
- ``routes`` (discovery, JWKS, token, userinfo) and ``authorize`` (the browser's side).

The OAuth protocol runs on our own async code (authlib's server classes are synchronous and
framework-bound); JOSE (JWK, JWS, JWT) is ``joserfc``, which authlib itself is built on and which
replaces the deprecated ``authlib.jose``: the provider's own keys through ``identity.jose_keys``
(shared with the card simulator), client assertions (RS256, PS256, ES256) directly.
"""
