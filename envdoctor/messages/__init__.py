"""The message catalog: every sentence envdoctor says, by message id, in English and Simplified Chinese.

Layers pass a `Msg`: a message id and its parameters. A Msg is also its English text (a str), so
codes, JSON keys and every existing English output stay what they were; a renderer words it in the
chosen language with `say`. Commands, versions, paths and codes are parameters and are never
translated. The catalogs are plain dicts (en.py, zh_CN.py); the Chinese one is imported only when
Chinese is asked for, so an English check pays for nothing.

Ids: `<code>.title|why|fix|note...` for findings, `plan.<step>.title`, `blocker.<kind>`,
`area.<name>.title`, `label.<name>`, `error.<kind>`, ...
"""
from __future__ import annotations

import os
import re
import string
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

LANGS = ("en", "zh")
_EXTRA: Dict[str, Dict[str, str]] = {"en": {}, "zh": {}}  # entries registered at run time (explain's signatures)
# id prefix -> a function of the language returning that prefix's entries, kept as data elsewhere
# (log_signatures_zh.csv); called once, the first time an id with the prefix is worded in a language.
_LOADERS: Dict[str, Callable[[str], Mapping[str, str]]] = {}
_LOADED: set = set()
_chosen = "en"
_explicit = False  # --lang was given: JSON then carries the localized text too


class Msg(str):
    """English text that remembers its message id and parameters. A parameter may itself be a
    Msg (a clause), which is worded in the same language."""

    id: str
    params: Tuple[Tuple[str, Any], ...]

    def __new__(cls, msg_id: str, **params: Any) -> "Msg":
        self = str.__new__(cls, _format(template(msg_id, "en"), params, "en"))
        self.id = msg_id
        self.params = tuple(params.items())
        return self

    def __reduce__(self):  # a Msg crosses process boundaries (pickle) as what it is
        return (_rebuild, (self.id, self.params))

    def in_lang(self, lang: str) -> str:
        return _format(template(self.id, lang), dict(self.params), lang)


def _rebuild(msg_id: str, params: Tuple[Tuple[str, Any], ...]) -> Msg:
    return Msg(msg_id, **dict(params))


def _value(value: Any, lang: str) -> Any:
    if isinstance(value, Msg):
        return value.in_lang(lang)
    if isinstance(value, (list, tuple)):  # a list of clauses: joined the way each language joins them
        return template("sep.list", lang).join(str(_value(v, lang)) for v in value)
    return value


def _format(text: str, params: Mapping[str, Any], lang: str) -> str:
    return text.format(**{k: _value(v, lang) for k, v in params.items()})


def catalog(lang: str) -> Dict[str, str]:
    if lang == "zh":
        from envdoctor.messages.zh_CN import ZH

        return ZH
    from envdoctor.messages.en import EN

    return EN


def template(msg_id: str, lang: str) -> str:
    """The text of `msg_id` in `lang`; English where the language has none (the completeness
    test keeps that from happening in a release)."""
    if lang != "en":
        _load(msg_id, lang)
        for table in (_EXTRA[lang], catalog(lang)):
            if msg_id in table:
                return table[msg_id]
    if msg_id in _EXTRA["en"]:
        return _EXTRA["en"][msg_id]
    return catalog("en")[msg_id]


def _load(msg_id: str, lang: str) -> None:
    for prefix, loader in _LOADERS.items():
        if msg_id.startswith(prefix) and (prefix, lang) not in _LOADED:
            _LOADED.add((prefix, lang))
            _EXTRA[lang].update(loader(lang))


def register_loader(prefix: str, loader: Callable[[str], Mapping[str, str]]) -> None:
    """Entries for ids starting with `prefix` come from `loader(lang)`, read only when needed."""
    _LOADERS[prefix] = loader


def as_template(text: str) -> str:
    """A data file's text with `{name}` fields (lowercase names) as a catalog template: every other
    brace is literal."""
    escaped = text.replace("{", "{{").replace("}", "}}")
    return re.sub(r"\{\{([a-z_]+)\}\}", r"{\1}", escaped)


def register(entries: Mapping[str, Mapping[str, str]]) -> None:
    """Add messages kept as data elsewhere (explain's signatures table): {lang: {id: text}}."""
    for lang, table in entries.items():
        _EXTRA[lang].update(table)


def placeholders(text: str) -> Tuple[str, ...]:
    """The {names} a text fills, sorted: a translation must fill the same ones."""
    return tuple(sorted({name for _, name, _, _ in string.Formatter().parse(text) if name is not None}))


def choose(option: Optional[str] = None, env: Optional[Mapping[str, str]] = None) -> str:
    """--lang, else ENVDOCTOR_LANG, else the locale (LC_ALL, LC_MESSAGES, LANG: zh* is Chinese)."""
    env = os.environ if env is None else env
    for value in (option, env.get("ENVDOCTOR_LANG")):
        if value:
            return normalize(value)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:  # the first one set decides, as in POSIX
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def normalize(value: str) -> str:
    """"zh", "zh-CN", "zh_CN.UTF-8" -> "zh"; "en", "C", anything else -> "en"."""
    return "zh" if value.strip().lower().replace("_", "-").startswith("zh") else "en"


def set_language(lang: str, explicit: bool = False) -> None:
    global _chosen, _explicit
    _chosen = lang if lang in LANGS else "en"
    _explicit = explicit


def language() -> str:
    return _chosen


def asked() -> bool:
    """Was a language asked for with --lang (JSON adds its `text` key only then)?"""
    return _explicit


def say(text: Any, lang: Optional[str] = None) -> str:
    """`text` in the chosen language: a Msg is worded from the catalog; anything else (a command,
    a path, a tool's own output) is printed as it is."""
    lang = lang or _chosen
    if isinstance(text, Msg) and lang != "en":
        return text.in_lang(lang)
    return str(text)


def say_all(texts: Iterable[Any], lang: Optional[str] = None) -> Tuple[str, ...]:
    return tuple(say(t, lang) for t in texts)


def t(msg_id: str, **params: Any) -> str:
    """A renderer's own label or sentence, straight in the chosen language."""
    return _format(template(msg_id, _chosen), params, _chosen)


def localized(**texts: Any) -> Dict[str, Any]:
    """The `localized` object JSON adds when --lang is given: each text (or list of texts) worded in
    the chosen language, beside the English keys that stay the contract."""
    out: Dict[str, Any] = {"lang": _chosen}
    for key, value in texts.items():
        out[key] = [say(v) for v in value] if isinstance(value, (list, tuple)) else say(value)
    return out
