"""Tables of identity, one module per concern; importing this package registers them all."""

from madoguchi.identity.models import (
    cards as cards,
)
from madoguchi.identity.models import (
    officials as officials,
)
from madoguchi.identity.models import (
    passkeys as passkeys,
)
from madoguchi.identity.models import (
    provider as provider,
)
from madoguchi.identity.models.accounts import (
    CardIdentity,
    Membership,
    MembershipRole,
    Organisation,
    OrganisationKind,
    Person,
)
from madoguchi.identity.models.audit import AuditChain, AuditCheckpoint, AuditEntry
from madoguchi.identity.models.links import SignInLink
from madoguchi.identity.models.sessions import Assurance, SignInMethod, WebSession

__all__ = [
    "Assurance",
    "AuditChain",
    "AuditCheckpoint",
    "AuditEntry",
    "CardIdentity",
    "Membership",
    "MembershipRole",
    "Organisation",
    "OrganisationKind",
    "Person",
    "SignInLink",
    "SignInMethod",
    "WebSession",
]
