"""Rate limits of the public API (slowapi), keyed by client address."""
from slowapi import Limiter
from slowapi.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)
