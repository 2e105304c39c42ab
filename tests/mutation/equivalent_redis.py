"""The Redis backend's surviving mutants judged equivalent (reviewed
2026-12-04, confirmed surviving by the 2026-12-05 run of ``store-redis``).

Grouped by the reason no test can tell them from the original; the numbers
are mutmut's, per function, at commit 5ee4371.
"""

from __future__ import annotations

_S = "adapters.redis.store.xǁRedisEventStoreǁ"
_READMODELS = "adapters.redis.readmodels.xǁRedisReadModelStoreǁ"

_GROUPS: dict[str, dict[str, tuple[int, ...]]] = {
    "no version or position reaches 2**53, and the Lua scripts read any negative bound as none": {
        _S + "_read_stream_page": (1, 6, 9)
    },
    "the script sources are ASCII and the codec accepts either spelling of its name": {
        "adapters.redis.scripts.xǁScriptǁ__init__": (7, 12, 14, 17)
    },
    "a value only tested for truthiness, where the mutant keeps its truth": {
        "adapters.redis.scripts.xǁScriptǁ_pipelined": (2, 11)
    },
    "a float tie between deadlines that cannot occur, or the COUNT of a read whose "
    "entries are not used (a wake-up)": {_S + "_xread": (18, 25, 32, 35, 38, 41)},
    "Redis command and reply names are case-insensitive, and the probe's reply "
    "is not used beyond its success": {"adapters.redis.store.x__probe_waitaof": (10, 12, 13, 33)},
    "a default argument equal to the value the mutant drops, or a bound the "
    "server clamps the same way": {
        _S + "_position_at": (2,),
        _S + "_delete_events": (9,),
        _S + "_append_sync": (13, 16, 33),
        _S + "__init__": (4,),
        "adapters.redis.entries.xǁEntryIdǁparse": (6, 15),
        "adapters.redis.calls.xǁCallPathǁattempt": (10,),
        "adapters.redis.calls.xǁCallPathǁ__init__": (7, 8, 9),
        _READMODELS + "commit": (30, 35, 40, 41, 67),
        _READMODELS + "scan": (27, 41),
        _READMODELS + "drop": (31,),
        _READMODELS + "snapshot": (10, 24, 26),
        _READMODELS + "__init__": (3,),
    },
    "every Redis answers INFO (any section name, any case, or all sections) with "
    "redis_version, so its default is never used; and comparing three version "
    "parts with (7, 0) orders every real version as two do": {
        _S + "_check_server": (4, 6, 7, 9, 12, 17)
    },
    # Judged 2026-12-07 on 6cf028c, the mutants left by the whole run that day.
    "redis-py's xrange defaults max to '+' and sends no MULTI for any falsy "
    "transaction flag: the same command, the same pipeline": {
        "adapters.redis.entries.x_read_own_page": (9, 17)
    },
    "a flat field/value reply from XRANGE or the scripts is always of even length, "
    "so zip's strict check never fires (and strict=None is as falsy as False)": {
        "adapters.redis.entries.x_pairs": (4, 7, 11)
    },
    "hubs() keeps only keys hub_of_meta_key names as this prefix's meta keys, so a "
    "SCAN without the pattern lists the same hubs (over more keys); COUNT is a hint "
    "to the server, and SCAN's TYPE name is case-insensitive": {
        _S + "_hubs_sync": (1, 4, 5, 7, 8, 10, 12)
    },
    "append.lua reads any negative expected version as none, and the touch flag "
    "only as == '1'; touching on every retry (not only with wait_for_aof) writes "
    "one more increment of meta's 'retried', which nothing reads": {
        "adapters.redis.store.x__append_args": (5, 15, 17)
    },
}

EQUIVALENT_REDIS: dict[str, str] = {
    f"{function}__mutmut_{n}": reason
    for reason, functions in _GROUPS.items()
    for function, numbers in functions.items()
    for n in numbers
}
