"""Fetching an article from a URL, safely.

    fetch(url, config) -> Page      the body bytes, final URL and content type

What it guards against:

- only ``http`` and ``https`` URLs;
- one URL pattern (``URL_PATTERN``, also the API's): http(s), no spaces, no control
  characters;
- the host is resolved (``socket.getaddrinfo``) and refused when any of its
  addresses is not global (``ipaddress``'s ``is_global``, which covers private,
  loopback, link-local, shared 100.64.0.0/10, reserved, ...; plus multicast and the
  deprecated site-local fec0::/10; an IPv4 address inside IPv6 is judged as IPv4),
  unless ``config.allow_private``; the check is repeated on every redirect hop, and
  the connection is made to the very addresses checked (no second DNS lookup, so
  DNS rebinding cannot slip past it);
- redirects are followed by hand, at most ``MAX_REDIRECTS``;
- one overall deadline, ``DEADLINE_FACTOR * config.fetch_timeout`` seconds, covers
  connecting, sending, the response headers and the body: every socket operation
  waits at most what is left of it, so a server that sends its headers one byte at
  a time fails at the deadline (as does one that never answers: ``fetch_timeout``
  per operation);
- the body is streamed and refused past ``config.fetch_max_bytes``;
- only text/HTML (and JSON/XML) content types are accepted.

Every failure raises FetchError (BlockedAddressError for a refused address) with a
one-line message. Known limit: the DNS lookup itself waits as long as the system
resolver does.
"""
from __future__ import annotations

import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from ..config import DEFAULT, Config
from ..errors import BlockedAddressError, FetchError

__all__ = ["DEADLINE_FACTOR", "MAX_REDIRECTS", "Page", "URL_PATTERN", "check_address", "fetch",
           "is_url", "resolve"]

MAX_REDIRECTS = 5
DEADLINE_FACTOR = 4   # the whole fetch, redirects included: 4 x fetch_timeout
# An http(s) URL: no white space, no control character (\x00-\x1f, \x7f), a host that
# starts with a letter or digit. The API's schema uses the same pattern.
_URL_BODY = r"[Hh][Tt][Tt][Pp][Ss]?://[^\s\x00-\x1f\x7f/$.?#][^\s\x00-\x1f\x7f]*"
URL_PATTERN = "^" + _URL_BODY + "$"
_URL_RE = re.compile(r"\A" + _URL_BODY + r"\Z")
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


def is_url(text: str) -> bool:
    """Whether ``text`` is an http(s) URL by ``URL_PATTERN``."""
    return _URL_RE.match(text) is not None


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
    """Why ``ip`` may not be fetched from by default (None: a global address)."""
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None:
            return _blocked_reason(mapped)
        if ip.is_site_local:  # fec0::/10: deprecated, but routed inside some networks
            return "site-local"
    for attr, reason in (("is_loopback", "loopback"), ("is_unspecified", "unspecified"),
                         ("is_link_local", "link-local"), ("is_multicast", "multicast"),
                         ("is_private", "private"), ("is_reserved", "reserved")):
        if getattr(ip, attr):
            return reason
    if not ip.is_global:  # e.g. 100.64.0.0/10, shared address space (carrier NAT)
        return "non-global"
    return None


def check_address(url: httpx.URL, config: Config = DEFAULT) -> list[str]:
    """Refuse a URL whose scheme is not http(s) or whose host resolves to a
    non-global address (unless ``config.allow_private``); the addresses checked."""
    if url.scheme not in ("http", "https"):
        raise FetchError(f"cannot fetch {url.scheme}:// URLs, only http and https")
    host = url.host
    if not host:
        raise FetchError(f"the URL {url} has no host")
    port = url.port or (443 if url.scheme == "https" else 80)
    return checked_addresses(host, port, config)


def checked_addresses(host: str, port: int, config: Config = DEFAULT) -> list[str]:
    """The addresses of ``host``, each one checked (BlockedAddressError, FetchError)."""
    addresses = resolve(host, port)
    if not addresses:
        raise FetchError(f"cannot resolve {host}: no address")
    if config.allow_private:
        return addresses
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
    return addresses


class _Deadline:
    """What is left of the fetch's overall deadline, as each socket operation's timeout."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise error(f"past the fetch deadline of {self.seconds:g}s")
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname,
                                      self._deadline.left(timeout, httpcore.ConnectTimeout))
        return _Stream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """httpcore's network, bounded by the deadline, connecting only to the addresses
    that ``checked_addresses`` let through (the same lookup, not a second one)."""

    def __init__(self, config: Config, deadline: _Deadline) -> None:
        self._inner = httpcore.SyncBackend()
        self._config = config
        self._deadline = deadline

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        error: Exception | None = None
        for address in checked_addresses(host, port, self._config):
            try:
                inner = self._inner.connect_tcp(
                    address.split("%", 1)[0], port,
                    self._deadline.left(timeout, httpcore.ConnectTimeout),
                    local_address=local_address, socket_options=socket_options)
            except httpcore.ConnectError as exc:
                error = exc
                continue
            return _Stream(inner, self._deadline)
        raise error or httpcore.ConnectError(f"cannot connect to {host}")

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, max(self._deadline.end - time.monotonic(), 0)))


def _transport(config: Config, deadline: _Deadline) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(trust_env=False)
    pool = getattr(transport, "_pool", None)
    if pool is not None and hasattr(pool, "_network_backend"):
        pool._network_backend = _Backend(config, deadline)
    return transport


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
    if url[:8].lower().startswith(("http://", "https://")) and not is_url(url):
        raise FetchError(f"not an http(s) URL: {url[:200]!r}",
                         hint="a URL has no spaces or control characters")
    current = _parse_url(url)
    timeout = httpx.Timeout(config.fetch_timeout)
    overall = _Deadline(DEADLINE_FACTOR * config.fetch_timeout)
    deadline = overall.end
    headers = {"User-Agent": config.user_agent,
               "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1"}
    if transport is None:
        transport = _transport(config, overall)
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
        waited = min(time.monotonic() - (deadline - overall.seconds), overall.seconds)
        raise FetchError(f"timed out fetching {current} (after {waited:.0f}s)",
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
