"""The overlay: hand-written facts the served spec lacks, applied on top of commands.json.

Data only (the helpers below just build COMMAND DOCS-shaped argument maps).
Every command named here must exist in the spec, and every parameter named
here must exist in the generated signature: ``generate`` fails otherwise.

Sections:

* ``ARGUMENTS``: argument grammars for commands whose COMMAND DOCS entry is
  empty (the vector-set module commands, DEBUG) or whose grammar is restated
  in an equivalent, flatter form (BITFIELD's operations).
* ``METHOD_NAMES``: method name overrides (``DEL`` is a Python keyword).
* ``RENAMES``: per command, spec/token name (lower-case) -> parameter name.
* ``TYPES``: per command, parameter name -> annotation (the spec's type is
  too narrow or too loose: WEIGHTS are floats, score bounds take ``"(1"``).
* ``DEFAULTS``: per command, parameter -> default expression (makes it keyword-only).
* ``MODELS``: per command, block name -> generated dataclass name.
* ``SPLIT_ONEOF``: oneofs of pure tokens that become separate bools (SET NX/XX).
* ``BLOCKING``: how long a blocking command may block: (parameter, unit).
* ``GROUPS``: module commands' generated group.
* ``SUMMARIES``: docstring summaries for commands whose spec entry has none.
* ``UNITS``: per command, spec argument name -> "s" or "ms": a duration that also
  takes a ``timedelta`` (when the name does not say it: ``seconds``/``milliseconds``,
  EX/PX/BLOCK are recognised without an entry); "ms|at": milliseconds, or a
  ``datetime`` sent as unix milliseconds (RESTORE's ttl with ABSTTL).
* ``EXPIRY_LEAST``: per command, the least value its expiry arguments take (the spec
  says nothing of signs): the generated method refuses a smaller one (``timedelta`` and
  ``datetime`` too) before sending. Which arguments are expiries the generator derives
  (EX/PX/EXAT/PXAT, ``seconds``/``milliseconds``, unix times, UNITS); commands without
  an entry take any value (EXPIRE -1 deletes the key). Checked against the servers by
  tests/integration/test_expiry_bounds.py.
* ``PRELUDE``: per command, statements run before the argument list is built
  (RESTORE: a ``datetime`` ttl is absolute, so it sets ABSTTL itself).
"""

from __future__ import annotations

from typing import Any

Arg = dict[str, Any]


def _a(
    name: str,
    type_: str,
    token: str | None = None,
    *,
    opt: bool = False,
    multi: bool = False,
    key: int | None = None,
) -> Arg:
    d: Arg = {"name": name, "type": type_}
    if token is not None:
        d["token"] = token
    flags = [f for f, on in (("optional", opt), ("multiple", multi)) if on]
    if flags:
        d["flags"] = flags
    if key is not None:
        d["key_spec_index"] = key
    return d


def _tok(token: str, *, opt: bool = False) -> Arg:
    return _a(token.lower(), "pure-token", token, opt=opt)


def _oneof(
    name: str, *alts: Arg, token: str | None = None, opt: bool = False, multi: bool = False
) -> Arg:
    d = _a(name, "oneof", token, opt=opt, multi=multi)
    d["arguments"] = list(alts)
    return d


def _block(
    name: str, *kids: Arg, token: str | None = None, opt: bool = False, multi: bool = False
) -> Arg:
    d = _a(name, "block", token, opt=opt, multi=multi)
    d["arguments"] = list(kids)
    return d


_KEY = _a("key", "key", key=0)
_ELEMENT = _a("element", "string")


def _vector_input(with_element: bool) -> Arg:
    alts = []
    if with_element:
        alts.append(_a("ele", "string", "ELE"))
    alts.append(_a("fp32", "string", "FP32"))
    alts.append(
        _block("values", _a("num", "integer"), _a("vector", "double", multi=True), token="VALUES")
    )
    return _oneof("vector", *alts)


# Vector sets (Redis 8.0+ module commands), from the Redis documentation.
ARGUMENTS: dict[str, list[Arg]] = {
    "VADD": [
        _KEY,
        _a("reduce", "integer", "REDUCE", opt=True),
        _vector_input(False),
        _ELEMENT,
        _tok("CAS", opt=True),
        _oneof("quantization", _tok("NOQUANT"), _tok("Q8"), _tok("BIN"), opt=True),
        _a("ef", "integer", "EF", opt=True),
        _a("setattr", "string", "SETATTR", opt=True),
        _a("m", "integer", "M", opt=True),
    ],
    "VCARD": [_KEY],
    "VDIM": [_KEY],
    "VEMB": [_KEY, _ELEMENT, _tok("RAW", opt=True)],
    "VGETATTR": [_KEY, _ELEMENT],
    "VINFO": [_KEY],
    "VISMEMBER": [_KEY, _ELEMENT],
    "VLINKS": [_KEY, _ELEMENT, _tok("WITHSCORES", opt=True)],
    "VRANDMEMBER": [_KEY, _a("count", "integer", opt=True)],
    "VREM": [_KEY, _ELEMENT],
    "VSETATTR": [_KEY, _ELEMENT, _a("attributes", "string")],
    "VSIM": [
        _KEY,
        _vector_input(True),
        _tok("WITHSCORES", opt=True),
        _tok("WITHATTRIBS", opt=True),
        _a("count", "integer", "COUNT", opt=True),
        _a("epsilon", "double", "EPSILON", opt=True),
        _a("ef", "integer", "EF", opt=True),
        _a("filter", "string", "FILTER", opt=True),
        _a("filter-ef", "integer", "FILTER-EF", opt=True),
        _tok("TRUTH", opt=True),
        _tok("NOTHREAD", opt=True),
    ],
    # DEBUG is a family of developer subcommands: pass them through.
    "DEBUG": [_a("subcommand", "string"), _a("argument", "string", opt=True, multi=True)],
    # BITFIELD restated flat: each operation is one element; OVERFLOW applies
    # to the SET/INCRBY operations after it, exactly as on the wire.
    "BITFIELD": [
        _KEY,
        _oneof(
            "operation",
            _block("get", _a("encoding", "string"), _a("offset", "integer"), token="GET"),
            _block(
                "set",
                _a("encoding", "string"),
                _a("offset", "integer"),
                _a("value", "integer"),
                token="SET",
            ),
            _block(
                "incrby",
                _a("encoding", "string"),
                _a("offset", "integer"),
                _a("increment", "integer"),
                token="INCRBY",
            ),
            _oneof("overflow", _tok("WRAP"), _tok("SAT"), _tok("FAIL"), token="OVERFLOW"),
            opt=True,
            multi=True,
        ),
    ],
}

METHOD_NAMES: dict[str, str] = {"DEL": "delete"}

# A key may list alternatives ("data|field_value"): Redis 7.0 names these arguments
# differently (7.2 renamed them), and a client generated from a 7.0 server alone keeps the
# parameter names of the shipped one.
_GROUP = {"group|groupname": "group"}
_CONSUMER = {"group|groupname": "group", "consumer|consumername": "consumer"}
_FLUSH = {"flush-type|async": "flush-type"}
_UNIT = {"unit|index_unit": "unit"}
RENAMES: dict[str, dict[str, str]] = {
    "HSET": {"data|field_value": "mapping"},
    "HMSET": {"data|field_value": "mapping"},
    "MSET": {"data|key_value": "mapping"},
    "MSETNX": {"data|key_value": "mapping"},
    "ZADD": {"data|score_member": "mapping"},
    "XADD": {"data|field_value": "fields"},
    "CONFIG SET": {"data|parameter_value": "mapping"},
    "GEOADD": {"data|longitude_latitude_member": "data"},
    "ACL CAT": {"category|categoryname": "category"},
    "BITCOUNT": _UNIT,
    "BITPOS": _UNIT,
    "CLIENT UNBLOCK": {"unblock-type|timeout_error": "unblock-type"},
    "CLUSTER ADDSLOTSRANGE": {"range|start-slot_end-slot": "range"},
    "CLUSTER DELSLOTSRANGE": {"range|start-slot_end-slot": "range"},
    "CLUSTER RESET": {"reset-type|hard_soft": "reset-type"},
    "FLUSHALL": _FLUSH,
    "FLUSHDB": _FLUSH,
    "FUNCTION FLUSH": _FLUSH,
    "SCRIPT FLUSH": _FLUSH,
    "SHUTDOWN": {"save-selector|nosave_save": "save-selector"},
    "XGROUP CREATE": _GROUP,
    "XGROUP SETID": _GROUP,
    "XGROUP DESTROY": _GROUP,
    "XGROUP CREATECONSUMER": _CONSUMER,
    "XGROUP DELCONSUMER": _CONSUMER,
    "XINFO CONSUMERS": _GROUP,
}

_WEIGHTS = {"weights": "Sequence[float]"}
_IDS = {"ids": "StreamIdT"}
_COMMANDLOG = 'Literal["slow", "large-request", "large-reply"]'
_SCORE_BOUNDS = {"min": "RangeT", "max": "RangeT"}
TYPES: dict[str, dict[str, str]] = {
    "ZUNIONSTORE": _WEIGHTS,
    "ZINTERSTORE": _WEIGHTS,
    "ZUNION": _WEIGHTS,
    "ZINTER": _WEIGHTS,
    "ZCOUNT": _SCORE_BOUNDS,
    "ZRANGEBYSCORE": _SCORE_BOUNDS,
    "ZREVRANGEBYSCORE": _SCORE_BOUNDS,
    "ZREMRANGEBYSCORE": _SCORE_BOUNDS,
    "ZRANGE": {"start": "RangeT", "stop": "RangeT"},
    "ZRANGESTORE": {"min": "RangeT", "max": "RangeT"},
    "XADD": {"id": 'StreamIdT | Literal["*"]'},
    "XRANGE": {"start": "StreamIdT", "end": "StreamIdT"},
    "XACK": _IDS,
    "XACKDEL": _IDS,
    "XDEL": _IDS,
    "XDELEX": _IDS,
    "XCLAIM": {"ids": "StreamIdT", "lastid": "StreamIdT"},
    "XAUTOCLAIM": {"start": "StreamIdT"},
    "XPENDING": {"start": "StreamIdT", "end": "StreamIdT"},
    "XSETID": {"last_id": "StreamIdT", "maxdeletedid": "StreamIdT"},
    "XGROUP CREATE": {"id": 'StreamIdT | Literal["$"]'},
    "XGROUP SETID": {"id": 'StreamIdT | Literal["$"]'},
    "XREVRANGE": {"end": "StreamIdT", "start": "StreamIdT"},
    "XREAD": {"streams": "Mapping[KeyT, StreamIdT]"},
    "XREADGROUP": {"streams": "Mapping[KeyT, StreamIdT]"},
    "ZINCRBY": {"increment": "float"},
    # Valkey types these alternatives as strings instead of pure tokens (a spec bug)
    "COMMANDLOG GET": {"type": _COMMANDLOG},
    "COMMANDLOG LEN": {"type": _COMMANDLOG},
    "COMMANDLOG RESET": {"type": _COMMANDLOG},
}

DEFAULTS: dict[str, dict[str, str]] = {
    "XADD": {"id": '"*"'},
}

MODELS: dict[str, dict[str, str]] = {
    "XADD": {"trim": "StreamTrim"},
    "BITFIELD": {
        "get": "BitfieldGet",
        "set": "BitfieldSet",
        "incrby": "BitfieldIncrby",
        "overflow": "BitfieldOverflow",
    },
}

SPLIT_ONEOF: dict[str, list[str]] = {"SET": ["condition"]}

# parameter carrying the block time, and its unit ("s" or "ms"); None: not blocking
BLOCKING: dict[str, tuple[str, str]] = {
    "XREAD": ("block", "ms"),
    "XREADGROUP": ("block", "ms"),
    "WAIT": ("timeout", "ms"),
    "WAITAOF": ("timeout", "ms"),
}

GROUPS: dict[str, str] = {}

PRELUDE: dict[str, list[str]] = {
    "RESTORE": ["if isinstance(ttl, datetime): absttl = True"],
}

EXPIRY_LEAST: dict[str, int] = {
    # "invalid expire time in 'set' command" for 0 and below
    "SET": 1,
    "GETEX": 1,
    "SETEX": 1,
    "PSETEX": 1,
    # "invalid expire time, must be >= 0" (0: expire at once)
    "HEXPIRE": 0,
    "HPEXPIRE": 0,
    "HEXPIREAT": 0,
    "HPEXPIREAT": 0,
    "HSETEX": 0,
    "HGETEX": 0,
    # "Invalid TTL value, must be >= 0" (0: no expiry)
    "RESTORE": 0,
}

UNITS: dict[str, dict[str, str]] = {
    "RESTORE": {"ttl": "ms|at"},
    "WAIT": {"timeout": "ms"},
    "WAITAOF": {"timeout": "ms"},
    "CLIENT PAUSE": {"timeout": "ms"},
    "MIGRATE": {"timeout": "ms"},
    "XCLAIM": {"min-idle-time": "ms", "ms": "ms"},
    "XAUTOCLAIM": {"min-idle-time": "ms"},
}

# The vector-set module commands publish no docs at all.
SUMMARIES: dict[str, str] = {
    "VADD": "Adds an element and its vector to a vector set (creating the key if needed).",
    "VCARD": "Returns the number of elements in a vector set.",
    "VDIM": "Returns the dimension of the vectors in a vector set.",
    "VEMB": "Returns the vector of an element of a vector set.",
    "VGETATTR": "Returns the JSON attributes of an element of a vector set.",
    "VINFO": "Returns information about a vector set.",
    "VISMEMBER": "Tells whether an element belongs to a vector set.",
    "VLINKS": "Returns the neighbours of an element in each layer of the HNSW graph.",
    "VRANDMEMBER": "Returns one or more random elements of a vector set.",
    "VREM": "Removes an element from a vector set.",
    "VSETATTR": "Sets (or, with an empty string, removes) the JSON attributes of an element.",
    "VSIM": "Returns the elements most similar to a vector or to an element.",
}
