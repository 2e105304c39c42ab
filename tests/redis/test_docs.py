"""docs/redis.md cannot drift: its Python example runs against the shared Redis."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

DOC = Path(__file__).resolve().parents[2] / "docs" / "redis.md"


def test_the_redis_doc_example_runs(redis_url: str) -> None:
    [example] = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    prefix = dict(parse_qsl(urlsplit(redis_url).query))["key_prefix"]
    assert "key_prefix=example" in example

    code = example.replace("key_prefix=example", f"key_prefix={prefix}")  # keys deleted after
    exec(compile(code, str(DOC), "exec"), {"__name__": "docs"})  # noqa: S102 - our own doc
