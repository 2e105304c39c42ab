"""Rows and states to MessagePack and back (one encoder, one decoder per type)."""

from __future__ import annotations

import functools
from typing import Any

import msgspec

from .readmodel import Projection, ReadModel
from .tables import META, meta_type, table_types

_encoder = msgspec.msgpack.Encoder()


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


@functools.cache
def _decoder(type_: Any) -> msgspec.msgpack.Decoder[Any]:
    return msgspec.msgpack.Decoder(type_)


def decode(data: bytes, type_: Any) -> Any:
    """Raises: msgspec.DecodeError / ValidationError for data that is not a ``type_``."""
    return _decoder(type_).decode(data)


def row_types(projection: Projection[Any]) -> dict[str, type]:
    """``{table: row type}`` of everything a projection stores."""
    state_type = projection.state_type
    return {META: meta_type(state_type), **table_types(state_type), **projection.derived_types}


def encode_state(state: ReadModel) -> bytes:
    return encode(state)


def decode_state(data: bytes, state_type: type[ReadModel]) -> ReadModel:
    return decode(data, state_type)
