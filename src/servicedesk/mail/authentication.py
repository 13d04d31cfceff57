"""Whether the receiving mail server vouches for a message's From address. Pure: authres.

Anyone can write any ``From:``. What a desk can believe is what its own receiving server
checked and wrote in ``Authentication-Results`` (RFC 8601): DMARC passed, or DKIM or SPF
passed for a domain aligned with the From domain. Only the headers of servers the desk is
configured to trust count, named by their authserv-id; such a server removes headers that
claim its id from mail arriving from outside (RFC 8601 section 5), so a sender cannot forge
them. Everything else (other servers' results, unreadable headers) counts for nothing.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import authres


@dataclass(frozen=True)
class Verdict:
    verified: bool
    reason: str  # why, in words staff can read


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment: the same domain, or one a subdomain of the other."""
    domain, from_domain = domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    if not domain or not from_domain:
        return False
    return (
        domain == from_domain
        or from_domain.endswith("." + domain)
        or domain.endswith("." + from_domain)
    )


def _property(result, kind: str, name: str) -> str:
    for prop in result.properties:
        if prop.type == kind and prop.name == name and prop.value:
            return str(prop.value)
    return ""


def _domain_of(value: str) -> str:
    return value.rpartition("@")[2]


def verify(headers: Iterable[str], *, from_domain: str, trusted: Iterable[str]) -> Verdict:
    """The verdict on a message whose From domain is ``from_domain``, from the values of its
    ``Authentication-Results`` headers and the authserv-ids the desk trusts."""
    trusted = {t.lower() for t in trusted}
    if not trusted:
        return Verdict(False, "no receiving mail server is trusted to vouch for senders")
    results = []
    for value in headers:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
        except Exception:  # unreadable: counts for nothing
            continue
        if str(header.authserv_id or "").lower() in trusted:
            results.extend(header.results)
    if not results:
        return Verdict(False, "no authentication results from a trusted mail server")
    seen = []
    for result in results:
        method, outcome = str(result.method).lower(), str(result.result).lower()
        seen.append(f"{method}={outcome}")
        if outcome != "pass":
            continue
        if method == "dmarc":
            checked = _property(result, "header", "from")
            if not checked or checked.lower().rstrip(".") == from_domain.lower():
                return Verdict(True, f"DMARC passed for {from_domain}")
        elif method == "dkim":
            signer = _property(result, "header", "d") or _domain_of(
                _property(result, "header", "i")
            )
            if aligned(signer, from_domain):
                return Verdict(True, f"DKIM passed for {signer}")
        elif method == "spf":
            envelope = _domain_of(_property(result, "smtp", "mailfrom"))
            if aligned(envelope, from_domain):
                return Verdict(True, f"SPF passed for {envelope}")
    return Verdict(
        False,
        f"the trusted mail server did not confirm {from_domain} ({', '.join(seen)})",
    )
