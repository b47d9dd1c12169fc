"""A small function app for the host's own tests: one function of each trigger type the local host runs, each
recording its calls (JSON lines) in the file named by AKSVEND_E2E_RECORD."""

from __future__ import annotations

import json
import os

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def record(kind: str, **fields: object) -> None:
    with open(os.environ["AKSVEND_E2E_RECORD"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"kind": kind, **fields}, default=str) + "\n")


@app.event_grid_trigger(arg_name="event")
def on_event(event: func.EventGridEvent) -> None:
    data = event.get_json()
    if (data or {}).get("fail"):
        raise RuntimeError("asked to fail")
    kind = getattr(event, "event_type", None) or getattr(event, "type", None)  # EventGridEvent or CloudEvent
    record("eventgrid", id=event.id, type=kind, data=data, cls=type(event).__name__)


@app.timer_trigger(arg_name="timer", schedule="*/1 * * * * *", run_on_startup=False)
async def tick(timer: func.TimerRequest) -> None:
    record("timer", past_due=timer.past_due, status=timer.schedule_status)


@app.queue_trigger(arg_name="msg", queue_name="sample-items", connection="AzureWebJobsStorage")
async def item(msg: func.QueueMessage, context: func.Context) -> None:
    body = msg.get_body().decode()
    record("queue", id=msg.id, body=body, dequeue_count=msg.dequeue_count, function=context.function_name,
           inserted=msg.insertion_time is not None)
    if body == "fail":
        raise RuntimeError("asked to fail")


@app.route(route="hello/{name}", methods=["GET"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps({"hello": req.route_params["name"], "q": req.params.get("q")}),
                             mimetype="application/json")
