"""The one ordered list of codemods.

Order matters where codemods meet in one file: ``loop-commit`` runs before ``route-commit`` so
that code moved into a service is already batched, and the logging codemods run first so that
later ones see the module logger they create.
"""

from __future__ import annotations

from codemods.base import Codemod
from codemods.rules.asyncio_run import AsyncioRun
from codemods.rules.bare_except import BareExcept
from codemods.rules.loop_commit import LoopCommit
from codemods.rules.print_to_logging import PrintToLogging
from codemods.rules.pydantic_api import PydanticApi
from codemods.rules.pydantic_config import PydanticConfig
from codemods.rules.query_in_loop import QueryInLoop
from codemods.rules.rate_limit_request import RateLimitRequest
from codemods.rules.request_timeout import RequestTimeout
from codemods.rules.route_commit import RouteCommit
from codemods.rules.secret_compare import SecretCompare
from codemods.rules.utcnow import Utcnow

REGISTRY: tuple[type[Codemod], ...] = (
    BareExcept,
    PrintToLogging,
    PydanticConfig,
    PydanticApi,  # after pydantic-config: BaseSettings moves once its Config is SettingsConfigDict
    LoopCommit,  # before route-commit: loops are batched before route code moves to a service
    # Before route-commit too: the code it moves into a generated service is already fixed (a
    # generated module must pass the second pass of every codemod, or route-commit is undone).
    SecretCompare,
    RequestTimeout,
    Utcnow,
    RouteCommit,  # after the codemods that fix the code it moves
    AsyncioRun,
    RateLimitRequest,
    QueryInLoop,  # findings only
    # codemod classes are added here, in this order:
    # bare-except, print-to-logging, pydantic-config, pydantic-api, loop-commit, secret-compare,
    # request-timeout, utcnow, route-commit, asyncio-run, rate-limit-request, query-in-loop
)


def by_name(name: str) -> type[Codemod]:
    for codemod in REGISTRY:
        if codemod.name == name:
            return codemod
    raise KeyError(name)
