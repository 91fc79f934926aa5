"""When and how long the clients wait before trying a call again."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Callable, Optional


@dataclass(frozen=True)
class RetryPolicy:
    """Retries on 429, 503 and (when repeating cannot do anything twice) network errors and timeouts.

    The wait before retry *n* is ``base_delay * 2**(n-1)`` ±20 % jitter, or the server's
    ``Retry-After`` when that is longer, and never more than ``max_delay`` (seconds).
    """

    #: Retries after the first attempt (0 turns retrying off).
    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0


def retry_delay(retry: int, policy: RetryPolicy, retry_after: Optional[float], rand: Callable[[], float] = random.random) -> float:
    """Seconds before retry number ``retry`` (1-based)."""
    factor: float = 2.0 ** (retry - 1)
    backoff = policy.base_delay * factor * (0.8 + 0.4 * rand())
    return min(policy.max_delay, max(backoff, retry_after or 0.0))


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """``Retry-After`` as seconds (a number of seconds or an HTTP date); None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        at = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, at - (time.time() if now is None else now))
