"""Fetching an article from a URL, safely.

    fetch(url, config) -> Page      the body bytes, final URL and content type

What it guards against:

- only ``http`` and ``https`` URLs;
- the host is resolved (``socket.getaddrinfo``) and refused when any of its
  addresses is private, loopback, link-local, multicast, reserved or unspecified,
  unless ``config.allow_private``; the check is repeated on every redirect hop;
- redirects are followed by hand, at most ``MAX_REDIRECTS``;
- connect and read timeouts (``config.fetch_timeout``) and an overall deadline;
- the body is streamed and refused past ``config.fetch_max_bytes``;
- only text/HTML (and JSON/XML) content types are accepted.

Every failure raises FetchError (BlockedAddressError for a refused address) with a
one-line message. Known limit: the address is checked before httpx connects, and
httpx resolves the name again, so a DNS server that answers differently the second
time (DNS rebinding) is not caught.
"""
from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass

import httpx

from ..config import DEFAULT, Config
from ..errors import BlockedAddressError, FetchError

__all__ = ["MAX_REDIRECTS", "Page", "check_address", "fetch", "resolve"]

MAX_REDIRECTS = 5
_ACCEPTED_TYPES = ("text/", "application/xhtml+xml", "application/xml", "application/json",
                   "application/ld+json", "application/rss+xml", "application/atom+xml",
                   "application/feed+json")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_PRIVATE_HINT = "pass --allow-private (Config(allow_private=True)) to fetch from your own network"


@dataclass(frozen=True)
class Page:
    """A fetched body and what the server said about it."""

    url: str                 # the URL asked for
    final_url: str           # after redirects
    status: int
    content_type: str        # media type without parameters, "" when absent
    charset: str | None      # the declared charset, when any
    body: bytes

    @property
    def is_html(self) -> bool:
        return self.content_type in _HTML_TYPES


def resolve(host: str, port: int) -> list[str]:
    """All addresses of ``host`` (a name or an IP literal). FetchError when DNS fails."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc.strerror or 'DNS lookup failed'}",
                         hint="check the URL's host name and your network") from None
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from None
    return sorted({info[4][0] for info in infos})


def _blocked_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return _blocked_reason(mapped)
    for attr, reason in (("is_loopback", "loopback"), ("is_unspecified", "unspecified"),
                         ("is_link_local", "link-local"), ("is_multicast", "multicast"),
                         ("is_private", "private"), ("is_reserved", "reserved")):
        if getattr(ip, attr):
            return reason
    return None


def check_address(url: httpx.URL, config: Config = DEFAULT) -> None:
    """Refuse a URL whose scheme is not http(s) or whose host resolves to a
    non-public address (unless ``config.allow_private``)."""
    if url.scheme not in ("http", "https"):
        raise FetchError(f"cannot fetch {url.scheme}:// URLs, only http and https")
    host = url.host
    if not host:
        raise FetchError(f"the URL {url} has no host")
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = resolve(host, port)
    if not addresses:
        raise FetchError(f"cannot resolve {host}: no address")
    if config.allow_private:
        return
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            raise BlockedAddressError(f"{host} resolves to {address}, which is not an IP "
                                      "address; refused", hint=_PRIVATE_HINT) from None
        reason = _blocked_reason(ip)
        if reason:
            shown = host if host == address else f"{host} ({address})"
            raise BlockedAddressError(f"refused to fetch {shown}: a {reason} address",
                                      hint=_PRIVATE_HINT)


def _parse_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise FetchError(f"invalid URL {url!r}: {exc}") from None
    return parsed


def _content_type(response: httpx.Response) -> tuple[str, str | None]:
    raw = response.headers.get("content-type", "")
    media = raw.split(";", 1)[0].strip().lower()
    charset = None
    for part in raw.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media, charset


def fetch(url: str, config: Config = DEFAULT, *,
          transport: httpx.BaseTransport | None = None) -> Page:
    """GET ``url`` under the rules in the module docstring and return the Page.

    ``transport`` replaces the network (tests pass an ``httpx.MockTransport``).
    """
    current = _parse_url(url)
    timeout = httpx.Timeout(config.fetch_timeout)
    deadline = time.monotonic() + 4 * config.fetch_timeout
    headers = {"User-Agent": config.user_agent,
               "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1"}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers,
                          transport=transport) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                check_address(current, config)
                with client.stream("GET", current) as response:
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        if not location:
                            raise FetchError(f"HTTP {response.status_code} redirect from "
                                             f"{current} without a Location")
                        current = current.join(location)
                        continue
                    return _read(response, url, current, config, deadline)
            raise FetchError(f"too many redirects (more than {MAX_REDIRECTS}) from {url}")
    except FetchError:
        raise
    except httpx.TimeoutException:
        raise FetchError(f"timed out fetching {current} (after {config.fetch_timeout:g}s)",
                         hint="try again later, or raise fetch_timeout") from None
    except httpx.ConnectError as exc:
        raise FetchError(f"cannot connect to {current.host}: {_reason(exc)}",
                         hint="check the URL; the site may be down") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"fetching {current} failed: {_reason(exc)}") from None
    except (OSError, ValueError) as exc:  # socket-level failures outside httpx's mapping
        raise FetchError(f"fetching {current} failed: {exc}") from None


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    reason = text[-1] if text else type(exc).__name__
    low = reason.lower()
    if "refused" in low:
        return "connection refused"
    if "name or service not known" in low or "nodename nor servname" in low:
        return "DNS lookup failed"
    return reason[:200]


def _read(response: httpx.Response, url: str, current: httpx.URL, config: Config,
          deadline: float) -> Page:
    status = response.status_code
    if status >= 400:
        raise FetchError(f"HTTP {status} {response.reason_phrase or ''}".rstrip()
                         + f" from {current}", hint="check the URL")
    if status != 200 and status != 203:
        raise FetchError(f"HTTP {status} from {current}: no article body")
    media, charset = _content_type(response)
    if media and not media.startswith(_ACCEPTED_TYPES):
        raise FetchError(f"{current} is {media}, not a text or HTML page",
                         hint="give the URL of an article page")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > config.fetch_max_bytes:
        raise FetchError(f"{current} is {int(declared):,} bytes, over the limit of "
                         f"{config.fetch_max_bytes:,}", hint="raise fetch_max_bytes")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > config.fetch_max_bytes:
            raise FetchError(f"{current} is over the limit of {config.fetch_max_bytes:,} "
                             "bytes", hint="raise fetch_max_bytes")
        if time.monotonic() > deadline:
            raise FetchError(f"timed out reading {current}",
                             hint="try again later, or raise fetch_timeout")
        chunks.append(chunk)
    return Page(url=url, final_url=str(current), status=status, content_type=media,
                charset=charset, body=b"".join(chunks))
