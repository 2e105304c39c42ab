"""The pieces of ``bench/suite.py``: one module per side and per kind of figure.

data          the logs every side writes (the same facts, three encodings)
places        isolated data: temp SQLite files, fresh schemas, a Redis prefix
ours          hublog's side, through its public API
shape         hublog's table shape, for the raw references
raw_sqlite    the raw-driver references
raw_postgres
raw_redis
peer          eventsourcing 9.5 on the same backends
rig           opening all of them once, and filling the logs that are read
child         figures measured in a fresh process (rebuild RSS, imports)
writers       4 writer processes on one hub
rss           a process's peak RSS
extras        rows that exist once other work lands (leases, replay, record)
rows_log      the append and read rows
rows_process  the rebuild, RSS, writer, import and extra rows
table         rows, medians, ratios and the printed table

and of ``bench/hub_api.py`` (the hub API's per-call cost, issue 32):

hub_rig       its sizes, and a fresh place (store) per measured cell
hub_inputs    Gleitzeit's own objects as inputs; an instance's past as events
hub_ops       the hub calls, on hublog's adapter or Gleitzeit's alike
hub_growth    per-call medians as the history and the hub count grow
hub_peer      beside Gleitzeit 0.0.5's own adapters, each side in a child
hub_trips     event-store and read-model calls per hub call
hub_table     its tables
"""
