"""Signatures: the platform's PKI, signing, sealing, timestamps and verification.

``keys`` is the one way any private key is used (software keys sealed at rest, or a PKCS#11
token such as an HSM); ``pki`` holds the certificate authorities, issued certificates,
revocation and CRLs; the other modules build on those. Other domains use ``service``.
"""
