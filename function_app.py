"""aksvend on Azure Functions (Python v2 model): the HTTP API as an ASGI app, and the Blueprints of the other
triggers. Nothing else happens here: importing this module must stay cheap (cold start)."""

import azure.functions as func

from functions import eventgrid, queues, timers
from functions.http_api import app as api

app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(eventgrid.bp)
app.register_functions(queues.bp)
app.register_functions(timers.bp)
