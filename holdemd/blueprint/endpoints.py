"""What the strategy service answers, without the HTTP: a path and its query parameters in, a
status and a JSON-able body out (``holdemd.blueprint.server`` puts it on the wire).

A decision is given as ``holdemd strategy show`` takes it, by the parameters ``seat``, ``hand``,
``board`` and ``history``, and answered by the Blueprint API (its `Strategy.as_dict` is the body
of ``/v1/strategy``), so the service, the library and the command line cannot disagree:

* ``/v1/strategy?hand=AsKs&board=AhKd7c&history=r2.5 c`` the action probabilities; with an
  off-tree size in the history, every branch of its translation (``branches``), the most likely
  on top, as the API without a generator;
* ``/v1/act`` the same and one action drawn from it (``seed``: a generator seeded with it, so
  the same request draws the same action; without, the service's own generator);
* ``/v1/range`` each player's probability of the history's actions with each hand (``reach``,
  over ``hands``, with ``combos`` the card combinations the board leaves);
* ``/v1/info`` the blueprint's manifest summary and these endpoints.

Errors are ``{"error": {"code", "message"}}``: an unknown parameter, a parameter given twice, a
missing hand, or anything the API refuses (bad or duplicate cards, an impossible history) is 400
``E_BAD_REQUEST`` with the API's one-line message; an unknown path 404 ``E_NOT_FOUND``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from holdemd import __version__
from holdemd.errors import HoldemdError, UsageError
from holdemd.protocol.errors import E_BAD_REQUEST, E_INTERNAL

if TYPE_CHECKING:
    from holdemd.blueprint.api import Blueprint

log = logging.getLogger("holdemd.blueprint.server")

E_NOT_FOUND = "E_NOT_FOUND"
E_METHOD_NOT_ALLOWED = "E_METHOD_NOT_ALLOWED"

DECISION = ("seat", "hand", "board", "history")
MAX_SEED = 2**64 - 1
# The API words its messages for the command line (``--hand AsAs: duplicate card``); here the
# same things are query parameters.
_FLAG = re.compile(r"--(seat|hand|board|history)\b")


@dataclass(frozen=True)
class Answer:
    """An HTTP status and the JSON body that goes with it."""

    status: int
    body: dict[str, Any]


def error(status: int, code: str, message: str) -> Answer:
    """``{"error": {"code", "message"}}``, the message on one line."""
    return Answer(status, {"error": {"code": code, "message": one_line(message)}})


def one_line(text: str, limit: int = 500) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


@dataclass(frozen=True)
class Endpoint:
    params: tuple[str, ...]
    required: tuple[str, ...]
    example: str


ENDPOINTS = {
    "/v1/strategy": Endpoint(DECISION, ("hand",), "hand=AsKs&board=AhKd7c&history=r2.5%20c"),
    "/v1/act": Endpoint((*DECISION, "seed"), ("hand",), "hand=AsKs&history=r2.5&seed=7"),
    "/v1/range": Endpoint(("seat", "board", "history"), (), "board=AhKd7c&history=r2.5%20c"),
    "/v1/info": Endpoint((), (), ""),
}
PATHS = ", ".join(ENDPOINTS)


class Endpoints:
    """The service's answers over one opened `Blueprint` (event-loop code: not thread-safe,
    for the generator of ``/v1/act`` without a seed)."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self._rng = np.random.default_rng()
        self._handlers: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
            "/v1/strategy": self.strategy,
            "/v1/act": self.act,
            "/v1/range": self.range,
            "/v1/info": self.info,
        }
        self._info = {
            **blueprint.info(),
            "service": {
                "holdemd": __version__,
                "endpoints": {
                    path: {"params": list(e.params), "required": list(e.required)}
                    for path, e in ENDPOINTS.items()
                },
            },
        }

    def warm(self) -> None:
        """One answer of each kind, so the first client pays no compile or cache fill."""
        table = self.blueprint.strategies()
        self.strategy({"hand": table.hands[0]})
        self.act({"hand": table.hands[-1], "seed": "0"})
        self.range({})

    def answer(self, path: str, query: Iterable[tuple[str, str]]) -> Answer:
        """The answer to a GET of ``path`` with ``query``'s (name, value) pairs."""
        endpoint = ENDPOINTS.get(path)
        if endpoint is None:
            return error(404, E_NOT_FOUND, f"no such path {path[:100]!r}; the paths are {PATHS}")
        params: dict[str, str] = {}
        for name, value in query:
            if name not in endpoint.params:
                takes = ", ".join(endpoint.params) or "no parameters"
                return error(
                    400, E_BAD_REQUEST, f"unknown parameter {name[:100]!r}: {path} takes {takes}"
                )
            if name in params:
                return error(400, E_BAD_REQUEST, f"{name}: given twice")
            params[name] = value
        for name in endpoint.required:
            if name not in params:
                return error(400, E_BAD_REQUEST, f"{name}: missing; e.g. {path}?{endpoint.example}")
        try:
            return Answer(200, self._handlers[path](params))
        except UsageError as exc:
            return error(400, E_BAD_REQUEST, _FLAG.sub(r"\1", str(exc)))
        except HoldemdError as exc:  # a damaged file is refused at open: not the client's fault
            log.error("%s: %s", path, exc)
            return error(500, E_INTERNAL, str(exc))
        except Exception as exc:
            log.exception("%s?%s: internal error", path, params)
            return error(500, E_INTERNAL, f"internal error ({type(exc).__name__}), logged")

    # -- the endpoints -------------------------------------------------------------------------

    def strategy(self, params: dict[str, str]) -> dict[str, Any]:
        return self.blueprint.strategy(
            params["hand"], params.get("board", ""), params.get("history"), params.get("seat")
        ).as_dict()

    def act(self, params: dict[str, str]) -> dict[str, Any]:
        seed = params.get("seed")
        rng = self._rng if seed is None else np.random.default_rng(_seed(seed))
        action, strategy = self.blueprint.sample(
            rng, params["hand"], params.get("board", ""), params.get("history"), params.get("seat")
        )
        probability = float(strategy.probabilities[action.index])
        return {
            "action": {**action.as_dict(), "probability": probability},
            "seed": None if seed is None else int(seed),
            **strategy.as_dict(),
        }

    def range(self, params: dict[str, str]) -> dict[str, Any]:
        blueprint = self.blueprint
        ranges = blueprint.range(params.get("history"), params.get("seat"), params.get("board", ""))
        return {
            "decision": ranges.decision.as_dict(),
            "board": ranges.board,
            "hands": list(ranges.hands),
            "combos": ranges.combos.tolist(),
            "players": [
                {"player": player, "seat": seat, "reach": ranges.reach[player].tolist()}
                for player, seat in enumerate(blueprint.seats)
            ],
        }

    def info(self, params: dict[str, str]) -> dict[str, Any]:
        return self._info


def _seed(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 20) or int(text) > MAX_SEED:
        raise UsageError(f"seed {text[:40]!r}: expected a whole number from 0 to {MAX_SEED}")
    return int(text)
