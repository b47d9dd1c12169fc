"""What the local host runs: the functions of a `func.FunctionApp`, discovered from the app object, and how to
call one the way the Python worker does (the trigger argument by its binding name, `context` when asked for).

Nothing here knows aksvend's functions: whatever `function_app.app.get_functions()` returns is run, by trigger
type. Supported triggers: httpTrigger (an ASGI app such as AsgiFunctionApp's, or plain HTTP functions),
queueTrigger, timerTrigger, eventGridTrigger. Other bindings are reported at start and not run.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func
from azure.functions._http_asgi import AsgiMiddleware

log = logging.getLogger("aksvend.local.host")
TRIGGERS = ("httpTrigger", "queueTrigger", "timerTrigger", "eventGridTrigger")


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the app: its name, its trigger binding (as function.json would have it), the code."""

    name: str
    trigger_type: str
    trigger: dict[str, Any]
    other_bindings: tuple[dict[str, Any], ...]
    user_function: Callable[..., Any] = field(repr=False)

    @property
    def arg_name(self) -> str:
        return str(self.trigger["name"])

    def asgi_app(self) -> Any | None:
        """The ASGI app behind an AsgiFunctionApp's catch-all HTTP function (found in the function's closure)."""
        for cell in getattr(self.user_function, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if isinstance(value, AsgiMiddleware):
                return value._app
        return None


def load_app(reference: str) -> Any:
    """`module:attribute` (default `function_app:app`) -> the FunctionApp object."""
    module_name, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module_name), attribute or "app")


def discover(app: Any) -> list[FunctionSpec]:
    """Every function of the app, as the host indexes them (`get_functions()`, `get_bindings()`)."""
    specs = []
    for function in app.get_functions():
        bindings = [_plain(b.get_dict_repr()) for b in function.get_bindings()]
        trigger = next((b for b in bindings if str(b.get("type", "")).endswith("Trigger")), None)
        if trigger is None:
            log.warning("function %s has no trigger; not run", function.get_function_name())
            continue
        others = tuple(b for b in bindings if b is not trigger and not (b.get("type") == "http"
                                                                          and b.get("name") == "$return"))
        specs.append(FunctionSpec(function.get_function_name(), str(trigger["type"]), trigger, others,
                                  function.get_user_function()))
    return specs


def unsupported(specs: list[FunctionSpec]) -> list[str]:
    """Human-readable notes about what this host will not do for these functions."""
    notes = [f"{s.name}: trigger {s.trigger_type} is not supported locally" for s in specs
             if s.trigger_type not in TRIGGERS]
    notes += [f"{s.name}: binding {b.get('type')} ({b.get('name')}) is not supported locally" for s in specs
              for b in s.other_bindings]
    return notes


def _plain(value: Any) -> Any:
    """Enums (BindingDirection, HttpMethod, AuthLevel) -> their values, so bindings read like function.json."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return getattr(value, "value", value)


class Context:
    """What `context: func.Context` gives a function: invocation id, function name and directory."""

    def __init__(self, function_name: str) -> None:
        self.invocation_id = str(uuid.uuid4())
        self.function_name = function_name
        self.function_directory = "."
        self.trace_context = None
        self.retry_context = None
        self.thread_local_storage = None


async def invoke(spec: FunctionSpec, value: Any, extra: dict[str, Any] | None = None) -> Any:
    """Call the function with its trigger argument, like the Python worker: coroutines on the loop, plain
    functions in a thread."""
    kwargs: dict[str, Any] = {spec.arg_name: value, **(extra or {})}
    params = inspect.signature(spec.user_function).parameters
    for name, param in params.items():
        if name not in kwargs and (name == "context" or param.annotation in (func.Context, "func.Context")):
            kwargs[name] = Context(spec.name)
    kwargs = {k: v for k, v in kwargs.items() if k in params}
    if inspect.iscoroutinefunction(spec.user_function):
        return await spec.user_function(**kwargs)
    return await asyncio.to_thread(spec.user_function, **kwargs)
