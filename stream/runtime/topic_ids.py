"""Topic ids (KIP-516, Kafka 2.8+; Tansu has them): a topic deleted and created again under the
same name gets a new id, so a worker can tell that a log it holds positions in is not the log
it is reading now, even once the new log has grown past those positions.

aiokafka 0.14 speaks Metadata up to v5, which carries no ids; this is Metadata v10 (the first
with ids, flexible encoding) declared with aiokafka's own protocol types and sent by its client.
A broker that does not speak v10 gives no ids, and only offsets tell a log that started over.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from io import BytesIO
from typing import Any

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import IncompatibleBrokerVersion, KafkaError
from aiokafka.protocol.abstract import AbstractType
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    Boolean,
    CompactArray,
    CompactString,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

log = logging.getLogger(__name__)
_NO_ID = bytes(16)  # what a broker without ids, or a topic it does not know, says


class Uuid(AbstractType[bytes]):  # type: ignore[misc]  # aiokafka.protocol is untyped here
    """Kafka's UUID: 16 bytes as they are."""

    @classmethod
    def encode(cls, value: bytes) -> bytes:
        return value

    @classmethod
    def decode(cls, data: BytesIO) -> bytes:
        value = data.read(16)
        if len(value) != 16:
            raise ValueError("Buffer underrun decoding a UUID")
        return value


class MetadataResponse_v10(Response):  # type: ignore[misc]
    API_KEY = 3
    API_VERSION = 10
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("brokers", CompactArray(
            ("node_id", Int32), ("host", CompactString("utf-8")), ("port", Int32),
            ("rack", CompactString("utf-8")), ("tags", TaggedFields))),
        ("cluster_id", CompactString("utf-8")),
        ("controller_id", Int32),
        ("topics", CompactArray(
            ("error_code", Int16), ("name", CompactString("utf-8")), ("topic_id", Uuid),
            ("is_internal", Boolean),
            ("partitions", CompactArray(
                ("error_code", Int16), ("partition_index", Int32), ("leader_id", Int32),
                ("leader_epoch", Int32), ("replica_nodes", CompactArray(Int32)),
                ("isr_nodes", CompactArray(Int32)), ("offline_replicas", CompactArray(Int32)),
                ("tags", TaggedFields))),
            ("topic_authorized_operations", Int32), ("tags", TaggedFields))),
        ("cluster_authorized_operations", Int32),
        ("tags", TaggedFields),
    )


class MetadataRequest_v10(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 3
    API_VERSION = 10
    RESPONSE_TYPE = MetadataResponse_v10
    SCHEMA = Schema(
        ("topics", CompactArray(("topic_id", Uuid), ("name", CompactString("utf-8")),
                                ("tags", TaggedFields))),
        ("allow_auto_topic_creation", Boolean),
        ("include_cluster_authorized_operations", Boolean),
        ("include_topic_authorized_operations", Boolean),
        ("tags", TaggedFields),
    )


class TopicIdsRequest(Request[MetadataRequest_v10]):  # type: ignore[misc]
    """Metadata of the named topics, at v10: never creates a topic."""

    API_KEY = 3

    def __init__(self, topics: Sequence[str]) -> None:
        self.topics = list(topics)

    def build(self, request_struct_class: type[MetadataRequest_v10]) -> MetadataRequest_v10:
        return request_struct_class(
            [(_NO_ID, topic, {}) for topic in self.topics], False, False, False, {})


async def topic_ids(client: AIOKafkaClient, topics: Sequence[str],
                    strict: bool = False) -> dict[str, str]:
    """The id of each of ``topics`` that exists (hex), from a bootstrapped ``client``; empty
    where the broker has no ids (a Kafka before 2.8), and on a failed request unless
    ``strict`` (then the error is raised)."""
    node = client.get_random_node()
    if node is None or not topics:
        return {}
    try:
        response: Any = await client.send(node, TopicIdsRequest(topics))
    except (IncompatibleBrokerVersion, NotImplementedError):
        return {}  # no Metadata v10 on this broker: no ids
    except KafkaError as error:
        if strict:
            raise
        log.debug("topic ids: %s", error)
        return {}
    return {name: topic_id.hex() for error_code, name, topic_id, *_rest in response.topics
            if error_code == 0 and topic_id != _NO_ID}


async def read_topic_ids(options: Mapping[str, Any], topics: Sequence[str]) -> dict[str, str]:
    """:func:`topic_ids` with a client of its own (``options``: the connection), strict."""
    client = AIOKafkaClient(**options)
    try:
        await client.bootstrap()
        return await topic_ids(client, topics, strict=True)
    finally:
        await client.close()
