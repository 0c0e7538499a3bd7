"""Keep secrets out of every output: proxy passwords, tokens, API keys.

Two layers: shapes that are secret wherever they appear (user:password@ in URLs, hf_
tokens, bearer tokens, NAME=value for secret-looking names), and the literal values of
this machine's secret environment variables, wherever they turn up.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

MASK = "***"
# A name is secret when it ENDS in one of these words: HF_TOKEN, OPENAI_API_KEY, DB_PASSWORD,
# but not tokenizer, max_tokens or TOKENIZERS_PARALLELISM.
_SECRET_WORDS = r"(?:TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY|SECRET_KEY|PRIVATE_KEY|AUTH|CREDENTIALS?)"
SECRET_NAME = re.compile(_SECRET_WORDS + r"$", re.I)
_PATTERNS = (
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@:]*(?::[^/\s@]*)?@"), r"\1" + MASK + "@"),
    (re.compile(r"\bhf_[A-Za-z0-9]{16,}"), "hf_" + MASK),
    (re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}"), r"\1-" + MASK),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), MASK),
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + MASK),
    (re.compile(r"(?i)\b([A-Z0-9_]*" + _SECRET_WORDS + r")(\s*[=:]\s*)(['\"]?)[^\s'\"]+\3"),
     r"\1\2\3" + MASK + r"\3"),
)


class Redactor:
    def __init__(self, env: Mapping[str, str] = ()) -> None:
        values = set()
        for name, value in dict(env).items():
            if value and len(value) >= 6 and SECRET_NAME.search(name):
                values.add(value)
            for m in re.finditer(r"://[^/\s@:]*:([^/\s@]+)@", value or ""):
                if len(m.group(1)) >= 3:
                    values.add(m.group(1))
        self._values = sorted(values, key=len, reverse=True)

    def text(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, MASK)
        for pattern, repl in _PATTERNS:
            text = pattern.sub(repl, text)
        return text

    def data(self, value: Any) -> Any:
        """Redact every string inside JSON-like data."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return value

    def lines(self, lines: Iterable[str]) -> list:
        return [self.text(line) for line in lines]
