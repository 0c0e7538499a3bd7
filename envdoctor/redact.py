"""Keep secrets out of every output: proxy passwords, tokens, API keys.

Two layers: shapes that are secret wherever they appear (user:password@ in URLs, hf_
tokens, bearer tokens, NAME=value for secret-looking names), and the literal values of
this machine's secret environment variables, wherever they turn up.

For output meant to be shared (`envdoctor report`), a third, optional layer hides who and
where: the home directory becomes `~` and the host name `<hostname>` (Redactor.for_sharing).
"""
from __future__ import annotations

import os
import re
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Optional

MASK = "***"
HOSTNAME_MASK = "<hostname>"
# A name is secret when it ENDS in one of these words: HF_TOKEN, OPENAI_API_KEY, DB_PASSWORD,
# but not tokenizer, max_tokens or TOKENIZERS_PARALLELISM.
_SECRET_WORDS = r"(?:TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY|SECRET_KEY|PRIVATE_KEY|AUTH|CREDENTIALS?)"
SECRET_NAME = re.compile(_SECRET_WORDS + r"$", re.I)
# A tokenizer's special tokens (pad_token: '[PAD]', eos_token: </s>) are text, not credentials.
_SECRET_NAMES = r"(?!(?:pad|eos|bos|unk|sep|cls|mask)_token\b)[A-Z0-9_]*" + _SECRET_WORDS
# A NAME: value pair masks only what is a value: the name is not part of a path
# ("cannot run ./secret: Permission denied") and, after ": ", the value ends the line
# ("token: abc123"), so "secret: not found" keeps its words.
_NAME_START = r"(?<![\w./\\-])"
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])"
                         r"(?=[A-Za-z0-9/+]*[0-9/+])[A-Za-z0-9/+]{30,48}(?![A-Za-z0-9/+=])")


def _aws_line(m: "re.Match[str]") -> str:
    """An AWS secret key (40 characters of mixed-case base64) is only recognisable beside an
    access key id or the word aws: alone it could be any identifier."""
    return _AWS_SECRET.sub(MASK, m.group(0))


_PATTERNS = (
    # user:password@ in a URL; the password may itself hold "@" (pip splits at the last one).
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@:?#]*(?::[^/\s?#]*)?@(?=[^/\s@]*(?:[/\s?#]|$))"),
     r"\1" + MASK + "@"),
    (re.compile(r"\bhf_[A-Za-z0-9]{16,}"), "hf_" + MASK),
    (re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}"), r"\1-" + MASK),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), MASK),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), "github_pat_" + MASK),
    (re.compile(r"\bpypi-[A-Za-z0-9_-]{16,}"), "pypi-" + MASK),
    (re.compile(r"(?im)^.*\b(?:AKIA|ASIA|aws|boto).*$"), _aws_line),  # before the id it looks for
    (re.compile(r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b"), MASK),
    (re.compile(r"(?i)(hooks\.slack\.com/services/)[A-Za-z0-9/_-]+"), r"\1" + MASK),
    # a conda channel token: https://conda.anaconda.org/t/<token>/channel
    (re.compile(r"(?i)(://[^\s/]+(?:/[^\s/]+)*?/t/)[A-Za-z0-9_.-]{6,}(?=/)"), r"\1" + MASK),
    # signed URLs: Azure SAS sig=, S3 X-Amz-Signature=, ?key=, ?access_token=
    (re.compile(r"(?i)([?&](?:sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|"
                r"x-goog-signature|x-goog-credential|key|api_?key|access_token|auth|password)=)[^&\s#'\"]+"),
     r"\1" + MASK),
    (re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[^\n]*)"),
     r"-----BEGIN \1PRIVATE KEY----- " + MASK),
    (re.compile(r"(?i)(\bmachine\s+\S+(?:\s+login\s+\S+)?\s+password\s+)\S+"), r"\1" + MASK),
    (re.compile(r"(?i)(\bdocker\s+login\b[^\n]*?\s-p(?:\s+|=))(?!\*\*\*)\S+"), r"\1" + MASK),
    (re.compile(r"(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.I), r"\1" + MASK),
    # Authorization: Basic dXNlcjpwYXNz / Proxy-Authorization: Negotiate ...
    (re.compile(r"(?i)(\b(?:proxy-)?authorization\s*[:=]\s*['\"]?(?:basic|digest|negotiate|ntlm|token)\s+)"
                r"[A-Za-z0-9._~+/=-]{4,}"), r"\1" + MASK),
    # headers whose whole value is a credential
    (re.compile(r"(?im)(\b(?:x-api-key|api-key|x-auth-token|x-access-token|private-token|x-goog-api-key|"
                r"cookie|set-cookie)\s*:\s*)(?!\*\*\*)[^\r\n'\"]+"), r"\1" + MASK),
    # A proxy written without a scheme: HTTPS_PROXY=user:pass@proxy:3128, or alone: user:pass@proxy:3128
    (re.compile(r"(?i)\b((?:https?|all|ftp)_proxy\s*[=:]\s*['\"]?)[^\s/@:'\"]+:[^\s/'\"]+@"), r"\1" + MASK + "@"),
    (re.compile(r"(?<![\w/:.@%~-])[\w.%~-]+:[^\s/@'\"]+@(?=[\w-]+(?:\.[\w-]+)*:\d+\b)"), MASK + "@"),
    # "HF_TOKEN": "..." (JSON, YAML, Python dicts)
    (re.compile(r"(?i)([\"']" + _SECRET_NAMES + r"[\"']\s*:\s*)([\"'])[^\"']+\2"), r"\1\2" + MASK + r"\2"),
    # --password X / --token=X on a command line
    (re.compile(r"(?i)(--(?:password|passwd|token|api-key|hf-token)[= ])(?!\*\*\*)\S+"), r"\1" + MASK),
    (re.compile(r"(?i)" + _NAME_START + r"(" + _SECRET_NAMES + r")(\s*=\s*|:)(['\"]?)(?!\*\*\*)[^\s'\"]+\3"),
     r"\1\2\3" + MASK + r"\3"),
    (re.compile(r"(?im)" + _NAME_START + r"(" + _SECRET_NAMES + r")(\s*:\s+)(['\"]?)(?!\*\*\*)[^\s'\",;]+\3"
                r"(?=\s*(?:$|[,;})\]]))"), r"\1\2\3" + MASK + r"\3"),
)
# Host names that are also ordinary words in our output: replacing them would garble it.
_COMMON_HOSTS = {"localhost", "ubuntu", "debian", "fedora", "linux", "docker", "wsl", "host", "server",
                 "computer", "desktop", "laptop", "nvidia", "cuda", "python", "vllm", "torch", "root", "none"}

EMPTY_ENV: Mapping[str, str] = MappingProxyType({})  # the default: no environment to mask values of


class Redactor:
    def __init__(self, env: Mapping[str, str] = EMPTY_ENV, *, home: Optional[str] = None,
                 hostname: Optional[str] = None) -> None:
        values = set()
        for name, value in dict(env).items():
            if value and len(value) >= 6 and SECRET_NAME.search(name):
                values.add(value)
            # user:password@host with or without a scheme; the password may hold "@".
            for m in re.finditer(r"(?:^|://|[\s,;])[^/\s@:,;]+:([^/\s,;]+)@[^/\s@,;]+", value or ""):
                if len(m.group(1)) >= 3:
                    values.add(m.group(1))
        self._values = sorted(values, key=len, reverse=True)
        self._places = []
        home = (home or "").rstrip("/\\")
        if len(home) > 1 and home.count("/") + home.count("\\") >= 1:
            self._places.append((re.compile(re.escape(home) + r"(?![A-Za-z0-9_.-])"), "~"))
        for name in _host_names(hostname):
            self._places.append((re.compile(r"(?<![A-Za-z0-9_.-])" + re.escape(name) + r"(?![A-Za-z0-9_-])", re.I),
                                 HOSTNAME_MASK))

    @classmethod
    def for_sharing(cls, env: Mapping[str, str], redact_paths: bool = True) -> "Redactor":
        """Secrets, and unless redact_paths is False, this user's home directory and host name."""
        if not redact_paths:
            return cls(env)
        import socket

        home = env.get("HOME") or os.path.expanduser("~")
        try:
            hostname = socket.gethostname()
        except OSError:
            hostname = None
        return cls(env, home=home, hostname=hostname)

    def text(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, MASK)
        for pattern, repl in _PATTERNS:
            text = pattern.sub(repl, text)
        for pattern, repl in self._places:
            text = pattern.sub(repl, text)
        return text

    def data(self, value: Any, _key: Optional[str] = None) -> Any:
        """Redact every string inside JSON-like data; a value under a secret-looking key
        (HF_TOKEN, "api_key", ...) is masked whole."""
        if isinstance(value, str):
            if _key is not None and value and re.fullmatch(_SECRET_NAMES, _key, re.I):
                return MASK
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.data(v, k if isinstance(k, str) else None)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return value

    def lines(self, lines: Iterable[str]) -> list:
        return [self.text(line) for line in lines]


def _host_names(hostname: Optional[str]) -> list:
    if not hostname:
        return []
    names = {hostname, hostname.split(".")[0]}
    return sorted((n for n in names if len(n) >= 2 and n.lower() not in _COMMON_HOSTS), key=len, reverse=True)
