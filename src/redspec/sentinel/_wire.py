"""What sentinels say, as plain values: replies, events, and the errors of discovery.

Pure functions, no I/O: the parsing of ``SENTINEL GET-MASTER-ADDR-BY-NAME``,
``SENTINEL REPLICAS`` (RESP2 flat lists or RESP3 maps) and of the event
messages sentinels publish on their pub/sub channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ConnectionError, ProtocolError

__all__ = [
    "EVENT_CHANNELS",
    "Address",
    "Event",
    "MasterNotFoundError",
    "ReplicaInfo",
    "ReplicaNotFoundError",
    "parse_config_epoch",
    "parse_event",
    "parse_master_address",
    "parse_replicas",
]

Address = tuple[str, int]

# The events a Sentinel object listens to (one pub/sub channel each).
# +switch-master and +promoted-slave move the master; the others say that the
# replica set (or a node's health or role) changed.
SWITCH_EVENTS = ("+switch-master", "+promoted-slave")
EVENT_CHANNELS = (
    *SWITCH_EVENTS,
    "+sdown",
    "-sdown",
    "+odown",
    "-odown",
    "+slave",
    "+convert-to-slave",
    "+reboot",
    "+role-change",
    "-role-change",
    "+slave-reconf-done",
    "+failover-end",
    "-failover-abort-not-elected",
    "-failover-abort-no-good-slave",
    "-failover-abort-slave-timeout",
)
_UNHEALTHY = frozenset({"s_down", "o_down", "disconnected"})
# Replica events after which the master may be elsewhere: a node changed role,
# or a failover ended either way.
_MASTER_HINTS = frozenset(
    {
        "-role-change",
        "+convert-to-slave",
        "+failover-end",
        "-failover-abort-not-elected",
        "-failover-abort-no-good-slave",
        "-failover-abort-slave-timeout",
    }
)


class MasterNotFoundError(ConnectionError):
    """No sentinel named a master of the service that answers ROLE as a master.

    The message says, per sentinel, why: it does not know the service, it did
    not answer, or the master it named is unreachable or is not a master.
    """


class ReplicaNotFoundError(ConnectionError):
    """No healthy replica of the service, and falling back to the master is off."""


@dataclass(frozen=True, slots=True)
class ReplicaInfo:
    """One entry of ``SENTINEL REPLICAS``: where, and whether reads may go there."""

    host: str
    port: int
    flags: frozenset[str]
    role_reported: str = "slave"

    @property
    def address(self) -> Address:
        return (self.host, self.port)

    @property
    def healthy(self) -> bool:
        """Not s_down, o_down or disconnected, and it says it is a replica.

        Right after a failover a sentinel lists the old master among the
        replicas while that node still says "master" (until the sentinel
        converts it, seconds later): its data is stale, so no reads go there.
        """
        return not (self.flags & _UNHEALTHY) and self.role_reported == "slave"


@dataclass(frozen=True, slots=True)
class Event:
    """A sentinel event that concerns one service (a master name).

    ``switch_to`` is the new master's address for +switch-master and
    +promoted-slave; None for the events that only ask for a refresh.
    """

    channel: str
    service: str
    switch_to: Address | None
    about_master: bool = False

    @property
    def master_may_have_moved(self) -> bool:
        """Worth asking the sentinels for the master again (not only the replicas)."""
        return self.switch_to is not None or self.about_master or self.channel in _MASTER_HINTS


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _port(value: Any) -> int:
    try:
        port = int(_text(value))
    except ValueError:
        raise ProtocolError(f"a sentinel sent a port that is not a number: {value!r}") from None
    if not 0 < port < 65536:
        raise ProtocolError(f"a sentinel sent port {port}")
    return port


def parse_master_address(reply: Any) -> Address | None:
    """``SENTINEL GET-MASTER-ADDR-BY-NAME``: (host, port), or None for an unknown service."""
    if reply is None:
        return None
    if not isinstance(reply, (list, tuple)) or len(reply) != 2:
        raise ProtocolError(f"unexpected GET-MASTER-ADDR-BY-NAME reply {reply!r}")
    return (_text(reply[0]), _port(reply[1]))


def _fields(entry: Any) -> dict[str, Any]:
    if isinstance(entry, dict):
        return {_text(k): v for k, v in entry.items()}
    if isinstance(entry, (list, tuple)) and len(entry) % 2 == 0:
        return {_text(k): v for k, v in zip(entry[::2], entry[1::2])}
    raise ProtocolError(f"unexpected SENTINEL REPLICAS entry {entry!r}")


def parse_replicas(reply: Any) -> list[ReplicaInfo]:
    """``SENTINEL REPLICAS``: one ReplicaInfo per replica the sentinel knows."""
    if not isinstance(reply, (list, tuple)):
        raise ProtocolError(f"unexpected SENTINEL REPLICAS reply {reply!r}")
    out = []
    for entry in reply:
        fields = _fields(entry)
        try:
            host, port, flags = fields["ip"], fields["port"], fields["flags"]
        except KeyError as exc:
            raise ProtocolError(f"SENTINEL REPLICAS entry without {exc}") from None
        out.append(
            ReplicaInfo(
                _text(host),
                _port(port),
                frozenset(_text(flags).split(",")) - {""},
                _text(fields.get("role-reported", "slave")),
            )
        )
    return out


def parse_config_epoch(reply: Any) -> int:
    """The ``config-epoch`` field of ``SENTINEL MASTER`` (0 when absent)."""
    fields = _fields(reply)
    value = fields.get("config-epoch", 0)
    try:
        return int(_text(value))
    except ValueError:
        raise ProtocolError(f"a sentinel sent config-epoch {value!r}") from None


def parse_event(channel: Any, data: Any) -> Event | None:
    """A published sentinel event, or None when it is not about a service's nodes.

    Formats (see the Sentinel documentation, "Sentinel API"):
    ``+switch-master <name> <old-ip> <old-port> <new-ip> <new-port>``;
    instance events ``<type> <instance-name> <ip> <port> @ <master-name> <ip> <port>``
    for replicas and sentinels, ``master <name> <ip> <port>`` for masters.
    """
    name = _text(channel)
    words = _text(data).split()
    if name == "+switch-master":
        if len(words) < 5:
            return None
        return Event(name, words[0], (words[3], _port(words[4])))
    if len(words) < 4:
        return None
    if words[0] == "master":
        return Event(name, words[1], None, about_master=True)
    if "@" not in words or words[0] == "sentinel":
        return None
    at = words.index("@")
    if at + 1 >= len(words):
        return None
    service = words[at + 1]
    if name == "+promoted-slave":
        return Event(name, service, (words[2], _port(words[3])))
    return Event(name, service, None)
