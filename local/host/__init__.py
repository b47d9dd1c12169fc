"""The local Functions host: runs `function_app.py`'s functions on one machine as the Azure Functions host does, over
Azurite and the ARM emulator.

| module | what |
|---|---|
| `main.py` | `python -m local.host` (`make serve`): start the stack, hand the app what differs, serve until stopped |
| `worker.py` | `python -m local.host.worker`: the app's queue and timer functions only, no HTTP (crash test, bench) |
| `app.py` | what the host does for the app: the offline credential handed over, queue and timer tasks, closing |
| `stack.py` | Azurite and the emulator as child processes, the app settings (local mode), stopping by PID |
| `functions.py` | the app's functions discovered from the app object, and invoked as the Python worker does |
| `http.py`, `queues.py`, `timers.py` | each trigger type, run as the Functions host runs it |
| `queue_runner.py` | host.json's queue semantics over a queue: batches, dequeue counts, poison queue |
| `client.py` | starting the host as a child process and talking to it and its emulator (tests, the demo) |
"""
