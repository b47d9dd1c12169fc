"""aksvend on Azure Functions (Python v2 model): the HTTP API as an ASGI app, and the Blueprints of the other
triggers. Nothing else happens here: importing this module must stay cheap (cold start).

`AsgiFunctionApp` is func.AsgiFunctionApp over functions/edge.py's `WorkerMiddleware`: a URL the worker's ASGI
middleware would mangle or fail on is refused with 400, and no exception reaches the Functions host."""

import azure.functions as func

from functions import eventgrid, queues, timers
from functions.edge import AsgiFunctionApp
from functions.http_api import app as api

app = AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(eventgrid.bp)
app.register_functions(queues.bp)
app.register_functions(timers.bp)
