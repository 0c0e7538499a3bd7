"""Where an install will fetch from, and how, as the user's own tools decide it.

Read, never guessed: pip's configuration files at every level and its PIP_* variables
(pip/_internal/configuration.py, cli/parser.py), proxies as requests and pip choose
them (requests/utils.py get_environ_proxies, should_bypass_proxies; pip >= 24.1 lets
--proxy win over the environment, NEWS #10685), the CA bundle each tool verifies with
(pip >= 24.2 adds the system store on Python >= 3.10, NEWS #11647), uv's uv.toml
(https://docs.astral.sh/uv/concepts/configuration-files/) and conda's .condarc
(conda/base/constants.py SEARCH_PATH, DEFAULT_CHANNELS).
"""
from __future__ import annotations

import configparser
import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple
from urllib.parse import unquote, urlsplit

from envdoctor.machine.context import Context
from envdoctor.machine.fs import RootedFS
from envdoctor.core.facts import ConfigProblem, PipConfigFile
from envdoctor.core.reasons import ConfigKind

PROXY_SCHEMES = ("http", "https", "socks4", "socks4a", "socks5", "socks5h")
PROXY_DEFAULT_PORT = {"http": 80, "https": 443}
SOCKS_DEFAULT_PORT = 1080


@dataclass(frozen=True)
class Setting:
    value: str
    source: str  # "PIP_INDEX_URL" or "/etc/pip.conf [global] index-url"


def _version_tuple(text: Optional[str]) -> Optional[Tuple[int, ...]]:
    m = re.match(r"^(\d+)(?:\.(\d+))?", text or "")
    return (int(m.group(1)), int(m.group(2) or 0)) if m else None


def at_least(version: Optional[str], want: Tuple[int, int]) -> Optional[bool]:
    have = _version_tuple(version)
    return None if have is None else have >= want


# --- pip ---------------------------------------------------------------------------

def pip_config_files(env: Mapping[str, str], system: str, prefix: Optional[str]) -> List[Tuple[str, str]]:
    """(level, path) in pip's load order; later files override earlier ones."""
    home = env.get("HOME") or env.get("USERPROFILE") or "~"
    if system == "Windows":
        name = "pip.ini"
        programdata = env.get("PROGRAMDATA", r"C:\ProgramData")
        files = [("global", os.path.join(programdata, "pip", name)),
                 ("user", os.path.join(home, "pip", name))]
        if env.get("APPDATA"):
            files.append(("user", os.path.join(env["APPDATA"], "pip", name)))
    else:
        name = "pip.conf"
        if system == "Darwin":
            glob_dirs = ["/Library/Application Support/pip"]
            user_dir = os.path.join(home, "Library", "Application Support", "pip")
        else:  # site_config_dirs: $XDG_CONFIG_DIRS (default /etc/xdg), then /etc
            xdg = env.get("XDG_CONFIG_DIRS") or "/etc/xdg"
            glob_dirs = [os.path.join(d, "pip") for d in xdg.split(":") if d] + ["/etc"]
            user_dir = os.path.join(env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "pip")
        files = [("global", os.path.join(d, name)) for d in glob_dirs]
        files += [("user", os.path.join(home, ".pip", name)), ("user", os.path.join(user_dir, name))]
    if prefix:
        files.append(("site", os.path.join(prefix, name)))
    return files


def _strtobool(value: str) -> bool:
    return value.strip().lower() in ("1", "y", "yes", "t", "true", "on")


@dataclass(frozen=True)
class PipSettings:
    values: Dict[str, Setting]  # what `pip install` uses, by option name (index-url, proxy, ...)
    files: Tuple[PipConfigFile, ...]
    problems: Tuple[ConfigProblem, ...]

    def get(self, key: str) -> Optional[Setting]:
        return self.values.get(key)

    def urls(self, key: str) -> List[Setting]:
        setting = self.values.get(key)
        return [Setting(v, setting.source) for v in setting.value.split()] if setting else []

    @property
    def no_index(self) -> bool:
        setting = self.values.get("no-index")
        return bool(setting and _strtobool(setting.value))


def read_pip_settings(ctx: Context, prefix: Optional[str]) -> PipSettings:
    """pip's effective options for `pip install` on the Context's machine."""
    return pip_settings(ctx.env, ctx.host.system, ctx.fs, prefix)


def pip_settings(env: Mapping[str, str], system: str, fs: RootedFS, prefix: Optional[str]) -> PipSettings:
    """pip's effective options for `pip install`: PIP_* variables over [install] over
    [global], each section from the last file that sets it (global < user < site <
    PIP_CONFIG_FILE). A file that does not parse stops pip itself: it is a problem.
    `prefix` is the environment whose pip runs (its site file)."""
    config_file = env.get("PIP_CONFIG_FILE")
    levels = pip_config_files(env, system, prefix)
    if config_file is not None:
        if config_file == os.devnull:
            levels = []  # pip loads no file at all
        else:
            if fs.exists(config_file):  # then pip skips the user's files
                levels = [lv for lv in levels if lv[0] != "user"]
            levels.append(("PIP_CONFIG_FILE", config_file))
    files, problems = [], []
    sections: Dict[str, Dict[str, Setting]] = {"global": {}, "install": {}}
    for level, path in levels:
        text = fs.read_text(path, limit=256 * 1024)
        files.append(PipConfigFile(path, level, text is not None))
        if text is None:
            continue
        parser = configparser.RawConfigParser()
        try:
            parser.read_string(text, source=path)
        except configparser.Error as exc:
            problems.append(ConfigProblem(ConfigKind.PIP_CONFIG, path, " ".join(str(exc).split())))
            continue
        for section in sections:
            if parser.has_section(section):
                for key, value in parser.items(section):
                    key = key.replace("_", "-")
                    sections[section][key] = Setting(value.strip(), f"{path} [{section}] {key}")
    values = dict(sections["global"])
    values.update(sections["install"])
    for name, value in env.items():
        if name.startswith("PIP_") and name != "PIP_CONFIG_FILE" and value:
            key = name[4:].lower().replace("_", "-")
            values["timeout" if key == "default-timeout" else key] = Setting(value, name)
    return PipSettings(values, tuple(files), tuple(problems))


# --- proxies -----------------------------------------------------------------------

@dataclass(frozen=True)
class ProxyChoice:
    url: Optional[str] = None  # with credentials; None: direct
    source: Optional[str] = None  # HTTPS_PROXY, https_proxy, ALL_PROXY, PIP_PROXY, a pip.conf line
    no_proxy_match: Optional[str] = None  # the NO_PROXY entry that sends this URL direct
    problem: Optional[str] = None  # why the proxy URL cannot be used
    note: Optional[str] = None
    env_wins: bool = False  # pip < 24.1: this environment proxy overrides pip's own proxy setting


def env_proxies(env: Mapping[str, str]) -> Dict[str, Tuple[str, str]]:
    """scheme -> (value, variable), as urllib's getproxies_environment: any case first,
    then lowercase variables override (an empty lowercase one removes the scheme)."""
    proxies: Dict[str, Tuple[str, str]] = {}
    for name, value in env.items():
        if value and name.lower().endswith("_proxy"):
            proxies[name.lower()[:-6]] = (value, name)
    for name, value in env.items():
        if name.endswith("_proxy") and name == name.lower():
            if value:
                proxies[name[:-6]] = (value, name)
            else:
                proxies.pop(name[:-6], None)
    return proxies


def no_proxy_setting(env: Mapping[str, str]) -> Optional[Tuple[str, str]]:
    """(value, variable): requests reads no_proxy, then NO_PROXY."""
    for name in ("no_proxy", "NO_PROXY"):
        if env.get(name):
            return env[name], name
    return None


def no_proxy_match(url: str, no_proxy: str) -> Optional[str]:
    """The NO_PROXY entry that sends `url` direct, as requests' should_bypass_proxies
    decides it (suffix match on the host, CIDR or equality for IPv4, "*" for all)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    entries = [e for e in no_proxy.replace(" ", "").split(",") if e]
    if "*" in entries:
        return "*"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for entry in entries:
        if ip is not None and ip.version == 4:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return entry
            except ValueError:
                pass
            if host == entry:
                return entry
            continue
        with_port = f"{host}:{parts.port}" if parts.port else host
        if host.endswith(entry.lower()) or with_port.endswith(entry.lower()):
            return entry
    return None


def parse_proxy(value: str) -> Tuple[Optional[str], Optional[str]]:
    """(proxy URL with a scheme, problem). Like requests, "host:port" means http://host:port."""
    url = value.strip()
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return None, f"the port is not a number from 1 to 65535 ({exc})"
    if parts.scheme.lower() not in PROXY_SCHEMES:
        return None, f"unsupported proxy scheme {parts.scheme!r}: use http://, https:// or socks5://"
    if not parts.hostname:
        return None, "no host name in the proxy URL"
    if port == 0:
        return None, "the port is not a number from 1 to 65535"
    return url, None


def proxy_address(url: str) -> Tuple[str, str, int]:
    """(scheme, host, port) of a parsed proxy URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname or "", parts.port or PROXY_DEFAULT_PORT.get(scheme, SOCKS_DEFAULT_PORT)


def proxy_credentials(url: str) -> Optional[Tuple[str, str]]:
    parts = urlsplit(url)
    if parts.username is None:
        return None
    return unquote(parts.username), unquote(parts.password or "")


def env_route(url: str, env: Mapping[str, str]) -> ProxyChoice:
    """The proxy requests-based tools (huggingface_hub, conda, pip without --proxy) use."""
    scheme = urlsplit(url).scheme.lower()
    proxies = env_proxies(env)
    chosen = proxies.get(scheme) or proxies.get("all")
    if chosen is None:
        return ProxyChoice()
    no_proxy = no_proxy_setting(env)
    match = no_proxy_match(url, no_proxy[0]) if no_proxy else None
    if match:
        return ProxyChoice(no_proxy_match=f"{no_proxy[1]}={match}")
    parsed, problem = parse_proxy(chosen[0])
    return ProxyChoice(parsed, chosen[1], problem=problem)


def pip_route(url: str, env: Mapping[str, str], pip_proxy: Optional[Setting],
              pip_version: Optional[str]) -> ProxyChoice:
    """pip's proxy: its own `proxy` option wins over the environment (and NO_PROXY) from
    pip 24.1; before that an environment proxy silently won."""
    if pip_proxy is None or not pip_proxy.value.strip():
        return env_route(url, env)
    parsed, problem = parse_proxy(pip_proxy.value)
    own = ProxyChoice(parsed, pip_proxy.source, problem=problem)
    if at_least(pip_version, (24, 1)) is False:
        from_env = env_route(url, env)
        if from_env.url or from_env.problem:
            return ProxyChoice(from_env.url, from_env.source, problem=from_env.problem, env_wins=True,
                               note=f"pip {pip_version} lets {from_env.source} win over its own proxy "
                                    f"({pip_proxy.source}); pip 24.1 reversed that")
    return own


# --- CA bundles ----------------------------------------------------------------------

@dataclass(frozen=True)
class CaChoice:
    cafile: Optional[str]  # a PEM bundle; None: the system store and/or certifi
    system: bool  # the OpenSSL default store (SSL_CERT_FILE / SSL_CERT_DIR apply)
    certifi: bool
    source: str

    @property
    def label(self) -> str:
        if self.cafile:
            return self.cafile
        return " + ".join(n for n, on in (("system store", self.system), ("certifi", self.certifi)) if on)


def pip_ca(env: Mapping[str, str], pip_cert: Optional[Setting], pip_version: Optional[str],
           python_version: Optional[str]) -> CaChoice:
    if pip_cert is not None and pip_cert.value:
        return CaChoice(pip_cert.value, False, False, pip_cert.source)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        if env.get(name):
            return CaChoice(env[name], False, False, name)
    if at_least(pip_version, (24, 2)) is not False and at_least(python_version, (3, 10)) is not False:
        return CaChoice(None, True, True, "pip's default on Python >= 3.10 (truststore: system store + certifi)")
    return CaChoice(None, False, True, "pip's default before 24.2 or on Python 3.9 (certifi)")


def requests_ca(env: Mapping[str, str]) -> CaChoice:
    """huggingface_hub, conda and plain requests/httpx clients."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        if env.get(name):
            return CaChoice(env[name], False, False, name)
    return CaChoice(None, False, True, "certifi (the requests default)")


def uv_ca(env: Mapping[str, str]) -> CaChoice:
    if env.get("SSL_CERT_FILE"):
        return CaChoice(env["SSL_CERT_FILE"], False, False, "SSL_CERT_FILE")
    if env.get("UV_NATIVE_TLS", "").lower() in ("1", "true"):
        return CaChoice(None, True, False, "UV_NATIVE_TLS (system store)")
    return CaChoice(None, False, True, "uv's bundled Mozilla roots (as certifi's)")


# --- uv ------------------------------------------------------------------------------

@dataclass(frozen=True)
class UvSettings:
    present: bool
    default_index: Optional[Setting]
    indexes: Tuple[Setting, ...]
    find_links: Tuple[Setting, ...]
    problems: Tuple[ConfigProblem, ...]


def _toml_values(text: str, pyproject: bool) -> Dict[str, List[Tuple[str, bool]]]:
    """{key: [(string value, in a default=true [[index]] table)]} for the keys uv reads
    indexes from: tomllib on Python >= 3.11, toml_lines() before. Raises ValueError."""
    try:
        import tomllib  # type: ignore[import-not-found]
    except ImportError:
        return toml_lines(text)
    data = tomllib.loads(text)  # tomllib.TOMLDecodeError is a ValueError
    if pyproject:
        data = data.get("tool", {}).get("uv", {})
    out: Dict[str, List[Tuple[str, bool]]] = {}
    for key in ("index-url", "extra-index-url", "find-links"):
        value = data.get(key)
        for v in ([value] if isinstance(value, str) else value or []):
            out.setdefault(key, []).append((str(v), False))
    for index in data.get("index", []) or []:
        if isinstance(index, dict) and isinstance(index.get("url"), str):
            out.setdefault("index", []).append((index["url"], bool(index.get("default"))))
    return out


def toml_lines(text: str) -> Dict[str, List[Tuple[str, bool]]]:
    """The same keys read line by line, for Pythons without tomllib: tables, key = value
    with strings or (multi-line) arrays of strings. Lines it cannot read raise ValueError."""
    out: Dict[str, List[Tuple[str, bool]]] = {}
    section, lines = "", iter(text.splitlines())
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            if not re.fullmatch(r"\[\[\s*[\w.\-\"]+\s*\]\]|\[\s*[\w.\-\"]+\s*\]", line):
                raise ValueError(f"cannot read the table header {line[:40]!r}")
            section = line.strip("[] ")
            continue
        m = re.match(r"^([\w.\-\"]+)\s*=\s*(.+)$", line)
        if not m:
            raise ValueError(f"cannot read {line[:40]!r}")
        key, value = m.group(1).strip('"'), m.group(2)
        while value.startswith("[") and "]" not in value:
            more = next(lines, None)
            if more is None:
                raise ValueError(f"unclosed array after {key} =")
            value += more.split("#", 1)[0]
        strings = [a or b for a, b in re.findall(r"\"([^\"]*)\"|'([^']*)'", value)]
        if section.endswith("index") and key == "url" and strings:
            out.setdefault("index", []).append((strings[0], False))
        elif section.endswith("index") and key == "default" and value.strip() == "true" and out.get("index"):
            out["index"][-1] = (out["index"][-1][0], True)
        elif key in ("index-url", "extra-index-url", "find-links"):
            out.setdefault(key, []).extend((v, False) for v in strings)
    return out


def uv_config_files(env: Mapping[str, str], system: str) -> List[str]:
    """System, user, then project (the working directory and its parents) uv.toml."""
    if env.get("UV_CONFIG_FILE"):
        return [env["UV_CONFIG_FILE"]]
    home = env.get("HOME") or "~"
    if system == "Windows":
        files = [os.path.join(env.get("PROGRAMDATA", r"C:\ProgramData"), "uv", "uv.toml"),
                 os.path.join(env.get("APPDATA", home), "uv", "uv.toml")]
    else:
        xdg_dirs = [d for d in (env.get("XDG_CONFIG_DIRS") or "").split(":") if d]
        files = [os.path.join(d, "uv", "uv.toml") for d in xdg_dirs] + ["/etc/uv/uv.toml"]
        files.append(os.path.join(env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "uv", "uv.toml"))
    cwd = env.get("PWD")
    while cwd and os.path.isabs(cwd):
        files += [os.path.join(cwd, "uv.toml"), os.path.join(cwd, "pyproject.toml")]
        parent = os.path.dirname(cwd)
        if parent == cwd:
            break
        cwd = parent
    return files


def read_uv_settings(ctx: Context) -> UvSettings:
    env = ctx.env
    default: Optional[Setting] = None
    indexes: List[Setting] = []
    find_links: List[Setting] = []
    problems: List[ConfigProblem] = []
    found_file = False
    if not env.get("UV_NO_CONFIG"):
        for path in uv_config_files(env, ctx.host.system):
            text = ctx.fs.read_text(path, limit=256 * 1024)
            if text is None or (path.endswith("pyproject.toml") and "[tool.uv" not in text):
                continue
            found_file = True
            try:
                values = _toml_values(text, path.endswith("pyproject.toml"))
            except ValueError as exc:
                problems.append(ConfigProblem(ConfigKind.UV_CONFIG, path, " ".join(str(exc).split())))
                continue
            for url, is_default in values.get("index", []):
                if is_default:
                    default = Setting(url, f"{path} [[index]] default")
                else:
                    indexes.append(Setting(url, f"{path} [[index]]"))
            for url, _ in values.get("index-url", []):
                default = Setting(url, f"{path} index-url")
            indexes += [Setting(u, f"{path} extra-index-url") for u, _ in values.get("extra-index-url", [])]
            find_links += [Setting(u, f"{path} find-links") for u, _ in values.get("find-links", [])]
    for name in ("UV_INDEX_URL", "UV_DEFAULT_INDEX"):
        if env.get(name):
            default = Setting(env[name], name)
    for name in ("UV_INDEX", "UV_EXTRA_INDEX_URL"):
        for value in (env.get(name) or "").split():
            # UV_INDEX entries may be named: name=https://...
            url = value.split("=", 1)[1] if "=" in value.split("://")[0] else value
            indexes.append(Setting(url, name))
    find_links += [Setting(v, "UV_FIND_LINKS") for v in (env.get("UV_FIND_LINKS") or "").replace(",", " ").split()]
    present = bool(found_file or default or indexes or find_links or ctx.which("uv"))
    return UvSettings(present, default, tuple(indexes), tuple(find_links), tuple(problems))


# --- conda ---------------------------------------------------------------------------

CONDA_CHANNEL_ALIAS = "https://conda.anaconda.org"  # conda/base/constants.py DEFAULT_CHANNEL_ALIAS
CONDA_DEFAULT_CHANNELS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")


def condarc_files(env: Mapping[str, str], prefix: str) -> List[str]:
    """conda/base/constants.py SEARCH_PATH (Unix), with $CONDA_ROOT taken from the env's
    base when it is not set (an env lives in <root>/envs/<name>)."""
    home = env.get("HOME") or "~"
    root = env.get("CONDA_ROOT")
    if not root and prefix:
        parent = os.path.dirname(prefix)
        root = os.path.dirname(parent) if os.path.basename(parent) == "envs" else prefix
    files = ["/etc/conda/.condarc", "/etc/conda/condarc", "/var/lib/conda/.condarc", "/var/lib/conda/condarc"]
    if root:
        files += [os.path.join(root, ".condarc"), os.path.join(root, "condarc")]
    files += [os.path.join(home, ".conda", ".condarc"), os.path.join(home, ".conda", "condarc"),
              os.path.join(home, ".condarc")]
    if prefix:
        files += [os.path.join(prefix, ".condarc"), os.path.join(prefix, "condarc")]
    if env.get("CONDARC"):
        files.append(env["CONDARC"])
    return list(dict.fromkeys(files))


def parse_condarc(text: str) -> Dict[str, List[str]]:
    """Top-level `channels`, `default_channels` (lists) and `channel_alias` (a scalar) of
    a .condarc; a tiny reader for the YAML shapes conda writes, no YAML library."""
    out: Dict[str, List[str]] = {}
    key = None
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        top = re.match(r"^([A-Za-z_]+)\s*:\s*(.*)$", line)
        if top:
            key, rest = top.group(1), top.group(2).strip()
            if rest.startswith("["):
                if not rest.endswith("]"):
                    raise ValueError(f"unclosed list after {key}:")
                out[key] = [v.strip().strip("'\"") for v in rest[1:-1].split(",") if v.strip()]
            elif rest:
                out[key] = [rest.strip("'\"")]
            continue
        item = re.match(r"^\s+-\s*(.+)$", line)
        if item and key:
            out.setdefault(key, []).append(item.group(1).strip().strip("'\""))
        elif line.startswith((" ", "\t")):
            continue  # nested mappings (proxy_servers, custom_channels): not read
        else:
            raise ValueError(f"cannot read line {line.strip()[:40]!r}")
    return out


def conda_channels(ctx: Context, prefix: str) -> Tuple[List[Setting], List[ConfigProblem]]:
    channels: List[Setting] = []
    defaults: Optional[List[Setting]] = None
    alias = CONDA_CHANNEL_ALIAS
    problems: List[ConfigProblem] = []
    for path in condarc_files(ctx.env, prefix):
        text = ctx.fs.read_text(path, limit=256 * 1024)
        if text is None:
            continue
        try:
            values = parse_condarc(text)
        except ValueError as exc:
            problems.append(ConfigProblem(ConfigKind.CONDARC, path, str(exc)))
            continue
        if values.get("channel_alias"):
            alias = values["channel_alias"][0].rstrip("/")
        if "default_channels" in values:
            defaults = [Setting(c, f"{path} default_channels") for c in values["default_channels"]]
        for name in values.get("channels", []):
            channels.append(Setting(name, f"{path} channels"))
    if not channels:
        channels = [Setting("defaults", "conda's default channels")]
    out: List[Setting] = []
    for ch in channels:
        if ch.value == "defaults":
            out += defaults or [Setting(u, f"{ch.source} (defaults)") for u in CONDA_DEFAULT_CHANNELS]
        elif "://" in ch.value:
            out.append(ch)
        else:
            out.append(Setting(f"{alias}/{ch.value}", ch.source))
    unique: Dict[str, Setting] = {}
    for setting in out:
        unique.setdefault(setting.value.rstrip("/"), setting)
    return list(unique.values()), problems
