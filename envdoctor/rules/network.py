"""Network rules: name the step where reaching a package index or the model hub stopped,
and give the exact fix. Each target's first failing step decides its code (code_for);
a rule reports every target with its code in one finding.

A root cause is named once: when the proxy (or the one DNS server) fails, every target
that failed there is that proxy's (or server's) finding, not one per host. Mirrors that
users in mainland China rely on are offered as clearly labelled options, once, only for a
default endpoint (pip's default index, the PyTorch index, Hugging Face) that is slow or
failed on its own, where a mirror can help; nothing is ever switched silently.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from envdoctor.core.facts import KIND_LABEL, NetStep, NetTarget, NetworkFacts
from envdoctor.compat.tables import Matrices
from envdoctor.core.reasons import ConfigKind
from envdoctor.core.results import DataError, Facts
from envdoctor.core.units import binary_size, duration, rate
from envdoctor.rules.base import Advice, in_wsl, rule, target_pip, version_or_none

DNS_SLOW_SECONDS = 1.0  # a lookup this slow adds seconds to every new host an install touches
SLOW_SECONDS = 600.0  # projected time for the torch wheel above which a download is "slow"
# A small Range (the default check) ends before TCP's slow start does: a rate below this one
# is slow on any path (340 KiB over 5 round trips of 300 ms is still 226 kB/s).
SMALL_SLOW_BPS = 200_000
# Public PyPI mirrors run by a university and cloud vendors in mainland China (their help pages):
PYPI_MIRRORS = (
    ("TUNA, Tsinghua University", "https://pypi.tuna.tsinghua.edu.cn/simple",
     "https://mirrors.tuna.tsinghua.edu.cn/help/pypi/"),
    ("Alibaba Cloud", "https://mirrors.aliyun.com/pypi/simple/", "https://developer.aliyun.com/mirror/pypi"),
    ("Tencent Cloud", "https://mirrors.cloud.tencent.com/pypi/simple", "https://mirrors.cloud.tencent.com/"),
)
HF_MIRROR = "https://hf-mirror.com"  # a community mirror of the Hugging Face hub, used through HF_ENDPOINT

# The codes of this module's rules: code_for() classifies a target into one of them.
INDEX_URL_INVALID = "index-url-invalid"
PROXY_INVALID = "proxy-invalid"
PIP_CONFIG_INVALID = "pip-config-invalid"
UV_CONFIG_INVALID = "uv-config-invalid"
CONDARC_INVALID = "condarc-invalid"
CA_BUNDLE_INVALID = "ca-bundle-invalid"
PROXY_REFUSED = "proxy-refused"
PROXY_UNRESPONSIVE = "proxy-unresponsive"
PROXY_AUTH_REQUIRED = "proxy-auth-required"
PROXY_ENV_MISMATCH = "proxy-env-mismatch"
DNS_FAILURE = "dns-failure"
DNS_SLOW = "dns-slow"
TCP_BLOCKED = "tcp-blocked"
TLS_INTERCEPTED = "tls-intercepted"
HTTP_FORBIDDEN = "http-forbidden"
INDEX_UNREACHABLE = "index-unreachable"
HF_ENDPOINT_UNREACHABLE = "hf-endpoint-unreachable"
DOWNLOAD_SLOW = "download-slow"
DOWNLOAD_STALLED = "download-stalled"

DEFAULT_SOURCES = ("pip's built-in default (read from pip)", "huggingface_hub's default")
# Proxy authentication schemes of a Windows domain, which pip and requests cannot do (lowercase).
WINDOWS_AUTH = {"ntlm", "negotiate", "kerberos"}
CA_FILE = "/etc/ssl/certs/ca-certificates.crt"  # Debian/Ubuntu's system bundle, rebuilt by update-ca-certificates

HUBS = ("hf", "modelscope")


def code_for(target: NetTarget) -> Optional[str]:
    """The finding code of a target's first failing step (None: reached, no verdict, or a
    target nothing uses). A failure at the proxy is the proxy's, whatever the target."""
    step = target.failure
    if step is None or not target.failed:
        return None
    if step.name == "proxy":
        return PROXY_INVALID
    if step.name == "proxy-connect" or (step.name == "proxy-tls" and step.problem != "verify"):
        return PROXY_REFUSED if step.problem in ("refused", "reset") else PROXY_UNRESPONSIVE
    if step.problem == "verify":
        return TLS_INTERCEPTED
    if step.problem == "ca-bundle":
        return CA_BUNDLE_INVALID
    if step.status == 407:
        return PROXY_AUTH_REQUIRED
    if step.name == "tunnel":  # the proxy answered CONNECT with an error, or not at all
        return PROXY_REFUSED if step.status or step.problem in ("refused", "reset", "closed") \
            else PROXY_UNRESPONSIVE
    if step.status in (401, 403):
        return HTTP_FORBIDDEN
    if step.name == "dns":
        return DNS_FAILURE
    if step.name == "tcp" or (step.name == "tls" and step.problem == "reset"):
        return TCP_BLOCKED
    if step.name == "transfer":
        return DOWNLOAD_STALLED
    return HF_ENDPOINT_UNREACHABLE if target.kind in HUBS else INDEX_UNREACHABLE


def _dns_server_down(net: Optional[NetworkFacts]) -> bool:
    """Every name looked up failed, for two hosts or more: the DNS server, not the hosts."""
    if net is None:
        return False
    looked = [t for t in net.targets if not t.unused and any(s.name == "dns" for s in t.steps)]
    failed = {_host(t) for t in looked if code_for(t) == DNS_FAILURE}
    resolved = [t for t in looked for s in t.steps if s.name == "dns" and s.ok and "nothing to resolve" not in
                (s.detail or "")]
    return len(failed) >= 2 and not resolved


def _net(facts: Facts) -> Optional[NetworkFacts]:
    return facts.network


def _problems(facts: Facts, kind: ConfigKind) -> list:
    net = _net(facts)
    return [p for p in net.problems if p.kind == kind] if net else []


def _with(facts: Facts, code: str) -> List[NetTarget]:
    net = _net(facts)
    return [t for t in net.targets if code_for(t) == code] if net else []


def _line(t: NetTarget, step: Optional[NetStep] = None) -> str:
    step = step or t.failure
    where = f"{KIND_LABEL.get(t.kind, t.kind)} {t.url}"
    via = f" via proxy {t.proxy}" if t.proxy else ""
    return f"{where}{via}: {step.name}: {step.detail}" if step else where


def _severity(targets: Sequence[NetTarget]) -> str:
    return "error" if any(t.required for t in targets) else "warn"


def _host(t: NetTarget, step: Optional[NetStep] = None) -> str:
    step = step or t.failure
    return (step.host if step and step.host else None) or urlsplit(t.url).hostname or t.url


MIRROR_HELPS = (DNS_FAILURE, TCP_BLOCKED, HTTP_FORBIDDEN, INDEX_UNREACHABLE, HF_ENDPOINT_UNREACHABLE,
                DOWNLOAD_STALLED, DOWNLOAD_SLOW)
MIRROR_GROUPS = {"pip-index": "pypi", "uv-index": "pypi", "torch-index": "torch", "hf": "hf"}


def _mirror_code(t: NetTarget, facts: Facts) -> Optional[str]:
    """The rule that shows mirror options for this target: its failure's (or download-slow),
    when a mirror can help, i.e. a default endpoint failed on its own."""
    if t.source not in DEFAULT_SOURCES and t.kind != "torch-index":
        return None
    code = code_for(t) or (DOWNLOAD_SLOW if t in _slow(facts) else None)
    if code not in MIRROR_HELPS or (code == DNS_FAILURE and _dns_server_down(_net(facts))):
        return None
    return code


def _torch_pin(facts: Facts, matrices: Matrices) -> str:
    env = facts.python
    if env is not None and env.torch is not None:
        return env.torch.version.split("+", 1)[0]
    try:
        return str(max(matrices.table("torch"), key=lambda r: r.version).version)
    except DataError:  # unreadable data: leave the placeholder
        return "X.Y.Z"


def mirror_options(targets: Sequence[NetTarget], facts: Facts, code: str, matrices: Matrices) -> Tuple[str, ...]:
    """Options, never applied, once per check: each group (PyPI, PyTorch index, hub) is shown
    by the first rule that reports one of its default endpoints as failing or slow."""
    net = _net(facts)
    owners: dict = {}
    for t in (net.targets if net else ()):
        group = MIRROR_GROUPS.get(t.kind)
        if group and group not in owners and _mirror_code(t, facts):
            owners[group] = (_mirror_code(t, facts), t)
    mine = {g for g, (c, t) in owners.items() if c == code and any(t is x for x in targets)}
    pip = target_pip(facts)
    notes = []
    if "pypi" in mine:
        notes += [f"Option, if you are in mainland China: a public PyPI mirror by {name}: "
                  f"`{pip} config set global.index-url {url}` (see {doc})" for name, url, doc in PYPI_MIRRORS]
    if "torch" in mine:
        version = _torch_pin(facts, matrices)
        notes.append("The default CUDA build of each torch release is also on the package index (and its "
                     f"mirrors): `{pip} install torch=={version}` without --index-url needs no PyTorch index.")
    if "hf" in mine:
        notes += [f"Option, if you are in mainland China: `export HF_ENDPOINT={HF_MIRROR}` (hf-mirror, a "
                  "community mirror; huggingface_hub and vLLM then download from it).",
                  "Option: ModelScope: `pip install modelscope` and `export VLLM_USE_MODELSCOPE=True` "
                  "(vLLM reads only true/false)."]
    return tuple(notes)


def _pip_flags(facts: Facts) -> Tuple[str, ...]:
    net = _net(facts)
    pip = target_pip(facts)
    version = version_or_none(net.pip_version if net else None)
    fix = [f"{pip} config set global.timeout 60", f"{pip} config set global.retries 10"]
    if version is not None and version.release[:2] >= (25, 1):
        fix.append(f"{pip} config set global.resume-retries 10")
    else:
        fix.append(f"{pip} install --upgrade pip  # 25.1 added --resume-retries; 25.2 resumes by default")
    return tuple(fix)


def _wheelhouse(facts: Facts) -> Tuple[str, ...]:
    pip = target_pip(facts)
    return (f"Or fetch the big wheels once where the network is good, then install offline: "
            f"`{pip} download --dest ~/wheelhouse torch` there, copy ~/wheelhouse here, and "
            f"`{pip} install --no-index --find-links ~/wheelhouse torch`.",)


# --- configuration ---------------------------------------------------------------------

@rule(INDEX_URL_INVALID, "network", "pip's index-url, extra-index-url or find-links is not a usable URL")
def index_url_invalid(facts: Facts, _m: Matrices) -> Optional[Advice]:
    bad = _problems(facts, ConfigKind.INDEX_URL)
    if not bad:
        return None
    return Advice(
        "error", "pip is told to use an index that is not a URL",
        evidence=tuple(f"{p.where}: {p.message}" for p in bad),
        why="pip parses its index settings before it downloads anything: with one it cannot parse, every "
            "install stops with an error that names no package.",
        fix=(f"{target_pip(facts)} config debug",),
        notes=("Correct or unset the setting named above (`pip config unset global.index-url`, or the "
               "PIP_INDEX_URL / PIP_EXTRA_INDEX_URL variable); a URL is http(s)://host[:port]/path.",),
    )


@rule(PROXY_INVALID, "network", "A proxy variable or pip's proxy setting is not a usable URL")
def proxy_invalid(facts: Facts, _m: Matrices) -> Optional[Advice]:
    bad = _problems(facts, ConfigKind.PROXY_URL)
    if not bad:
        return None
    fix = []
    for p in bad:
        if " [" in p.where:  # a pip.conf line: "/etc/pip.conf [global] proxy"
            section = p.where.split("[", 1)[1].split("]", 1)[0]
            fix.append(f"{target_pip(facts)} config unset {section}.proxy")
        else:
            fix.append(f"unset {p.where}")
    return Advice(
        "error", "A proxy is set to something that is not a proxy URL",
        evidence=tuple(f"{p.where}: {p.message}" for p in bad),
        why="pip, requests and huggingface_hub refuse a malformed proxy before sending anything "
            "(\"Port could not be cast to integer\", InvalidProxyURL), so every download fails.",
        fix=tuple(dict.fromkeys(fix)),
        notes=("Then set it again as scheme://[user:password@]host:port, e.g. "
               "`export HTTPS_PROXY=http://proxy.example.com:3128`; percent-encode @ : / in a password.",),
    )


@rule(PIP_CONFIG_INVALID, "network", "A pip configuration file does not parse: every pip command fails")
def pip_config_invalid(facts: Facts, _m: Matrices) -> Optional[Advice]:
    bad = _problems(facts, ConfigKind.PIP_CONFIG)
    if not bad:
        return None
    return Advice(
        "error", "pip cannot read its configuration",
        evidence=tuple(f"{p.where}: {p.message}" for p in bad),
        why="pip loads every configuration file before any command; one that is not valid INI makes "
            "every pip command stop with a ConfigurationError, before it touches the network.",
        fix=tuple(f"mv {p.where} {p.where}.broken" for p in bad) + (f"{target_pip(facts)} config debug",),
        notes=("Then write the settings again with `pip config set global.index-url URL`: a pip.conf is "
               "a [global] header followed by `key = value` lines.",),
    )


@rule(UV_CONFIG_INVALID, "network", "A uv configuration file does not parse: uv refuses to run")
def uv_config_invalid(facts: Facts, _m: Matrices) -> Optional[Advice]:
    bad = _problems(facts, ConfigKind.UV_CONFIG)
    if not bad:
        return None
    return Advice(  # warn: it blocks uv, and pip installs still work
        "warn", "uv cannot read its configuration",
        evidence=tuple(f"{p.where}: {p.message}" for p in bad),
        why="uv reads uv.toml (and pyproject.toml's [tool.uv]) before any command; a file that is not valid "
            "TOML makes every uv command stop with a parse error, before it touches the network.",
        fix=tuple(f"mv {p.where} {p.where}.broken" for p in bad if not p.where.endswith("pyproject.toml")),
        notes=("Correct the file (TOML: `key = \"value\"`, tables as [[index]]), or run uv with "
               "--no-config (UV_NO_CONFIG=1) to ignore it.",),
        docs="https://docs.astral.sh/uv/concepts/configuration-files/",
    )


@rule(CONDARC_INVALID, "network", "A .condarc does not parse: conda cannot read its channels")
def condarc_invalid(facts: Facts, _m: Matrices) -> Optional[Advice]:
    bad = _problems(facts, ConfigKind.CONDARC)
    if not bad:
        return None
    return Advice(  # warn: it blocks conda, and pip installs still work
        "warn", "conda cannot read a .condarc",
        evidence=tuple(f"{p.where}: {p.message}" for p in bad),
        why="conda reads every .condarc before a command; one that is not valid YAML stops conda with a "
            "parse error, and envdoctor cannot tell which channels it would use.",
        fix=tuple(f"mv {p.where} {p.where}.broken" for p in bad) + ("conda config --show-sources",),
        notes=("Then set the channels again with `conda config --add channels NAME`.",),
        docs="https://docs.conda.io/projects/conda/en/latest/user-guide/configuration/use-condarc.html",
    )


@rule(CA_BUNDLE_INVALID, "network", "The CA bundle a tool is told to use cannot be loaded")
def ca_bundle_invalid(facts: Facts, _m: Matrices) -> Optional[Advice]:
    bad = _problems(facts, ConfigKind.CA_BUNDLE)
    if not bad:
        return None
    fix = []
    for p in bad:
        if " [" in p.where:
            section = p.where.split("[", 1)[1].split("]", 1)[0]
            fix.append(f"{target_pip(facts)} config unset {section}.cert")
        else:
            fix.append(f"export {p.where}={CA_FILE}")
    return Advice(
        "error", "A CA bundle setting points at a file that cannot be loaded",
        evidence=tuple(f"{p.where}: {p.message}" for p in bad),
        why="pip and requests fail every HTTPS download when the bundle they are told to use is missing "
            "or not PEM (\"Could not find a suitable TLS CA certificate bundle\").",
        fix=tuple(dict.fromkeys(fix)),
        notes=(f"{CA_FILE} is the system bundle on Debian/Ubuntu (Fedora: /etc/pki/tls/certs/ca-bundle.crt).",),
    )


# --- proxies ---------------------------------------------------------------------------

def _wsl_loopback_proxy(facts: Facts, targets: Sequence[NetTarget]) -> bool:
    net = _net(facts)
    if not in_wsl(facts) or (net and net.wsl_networking_mode == "mirrored"):
        return False
    for t in targets:
        host = (_host(t) or "").rsplit(":", 1)[0].strip("[]")
        if host == "localhost" or host.startswith("127.") or host == "::1":
            return True
    return False


def _proxy_fix(facts: Facts, targets: Sequence[NetTarget]) -> Tuple[str, ...]:
    """Unset (or correct) the setting each failing proxy came from."""
    net = _net(facts)
    fix = []
    for t in targets:
        source = t.proxy_source or ""
        if " [" in source:  # a pip.conf line: "/etc/pip.conf [global] proxy"
            section = source.split("[", 1)[1].split("]", 1)[0]
            fix.append(f"{target_pip(facts)} config unset {section}.proxy")
        elif source:
            twins = [n for n, v in (net.proxy_env if net else ()) if n.lower() == source.lower() and n != source
                     and v == t.proxy]
            fix.append(f"unset {' '.join([source] + twins)}")
    return tuple(dict.fromkeys(fix))


def _proxy_advice(facts: Facts, targets: Sequence[NetTarget], title: str, why: str) -> Advice:
    proxies = sorted({t.proxy or "?" for t in targets})
    sources = sorted({t.proxy_source for t in targets if t.proxy_source})
    notes = ["Or correct it: `export HTTPS_PROXY=http://HOST:PORT` with the proxy your network really uses. "
             "If the proxy is an app (Clash, v2rayN, a VPN client), start it."]
    if _wsl_loopback_proxy(facts, targets):
        notes.insert(0, "WSL 2 in its default NAT mode: 127.0.0.1 is the Linux VM itself, not Windows, so a "
                        "proxy app on Windows is not there. Use the Windows host's address (`ip route show "
                        "default | awk '{print $3}'`) and allow LAN connections in the proxy app, or set "
                        "networkingMode=mirrored under [wsl2] in %UserProfile%\\.wslconfig, then run "
                        "`wsl --shutdown` in Windows PowerShell.")
    every = len(targets) > 1 and len(proxies) == 1
    return Advice(
        _severity(targets), f"The proxy {', '.join(proxies)} (from {', '.join(sources) or '?'}) {title}"
        + (f": every download through it fails ({len(targets)} places)" if every else ""),
        evidence=tuple(_line(t) for t in targets),
        why=why, fix=_proxy_fix(facts, targets), notes=tuple(notes),
    )


@rule(PROXY_REFUSED, "network", "The configured proxy refuses connections or refuses to forward")
def proxy_refused(facts: Facts, _m: Matrices) -> Optional[Advice]:
    targets = _with(facts, PROXY_REFUSED)
    if not targets:
        return None
    return _proxy_advice(facts, targets, "refuses the connection or the tunnel",
                         "Nothing listens on the proxy's port, or it answers CONNECT with an error: every download "
                         "through it fails before it starts, and pip reports a ProxyError that looks like a "
                         "broken index. Unset the setting if no proxy is needed, or correct it.")


@rule(PROXY_UNRESPONSIVE, "network", "The configured proxy does not answer")
def proxy_unresponsive(facts: Facts, _m: Matrices) -> Optional[Advice]:
    targets = _with(facts, PROXY_UNRESPONSIVE)
    if not targets:
        return None
    return _proxy_advice(facts, targets, "does not answer",
                         "The proxy's host does not resolve, or it takes the connection and never answers: pip "
                         "waits for its timeout on every retry, then reports a ProxyError that looks like a broken "
                         "index. Unset the setting if no proxy is needed, or correct it.")


@rule(PROXY_AUTH_REQUIRED, "network", "The proxy answers 407: it needs credentials")
def proxy_auth_required(facts: Facts, _m: Matrices) -> Optional[Advice]:
    targets = _with(facts, PROXY_AUTH_REQUIRED)
    if not targets:
        return None
    asks = {scheme.lower() for t in targets for scheme in t.failure.auth}
    notes = ["Percent-encode special characters in the password (@ is %40, : is %3A)."]
    if asks & WINDOWS_AUTH:
        notes.insert(0, "This proxy asks for NTLM/Negotiate (Windows domain) authentication, which pip and "
                        "requests cannot do: run a local authenticating proxy (cntlm, or px on Windows) and "
                        "point the variables at it, e.g. http://127.0.0.1:3128.")
    proxy = next((t.proxy for t in targets if t.proxy), "http://HOST:PORT")
    authority, slash, path = proxy.split("://", 1)[-1].partition("/")
    plain = authority.rpartition("@")[2] + slash + path  # host:port, without the (masked) credentials
    sources = sorted({t.proxy_source for t in targets if t.proxy_source})
    notes.append("If no proxy is needed here: " + " and ".join(f"`{c}`" for c in _proxy_fix(facts, targets)) + ".")
    return Advice(
        _severity(targets), f"The proxy {plain} (from {', '.join(sources) or '?'}) refuses to forward without "
                            "credentials (407)",
        evidence=tuple(_line(t) for t in targets),
        why="A 407 means the proxy is reachable but wants you to log in; pip shows it as "
            "\"407 Proxy Authentication Required\" or a tunnel error and gives up.",
        fix=(f"export HTTPS_PROXY=http://USER:PASSWORD@{plain}", "export HTTP_PROXY=\"$HTTPS_PROXY\"",
             "export https_proxy=\"$HTTPS_PROXY\" http_proxy=\"$HTTPS_PROXY\""),
        notes=tuple(notes),
    )


def _internal(host: str) -> bool:
    import ipaddress

    try:
        ip = ipaddress.ip_address(host.strip("[]"))
        return ip.is_private or ip.is_loopback or ip.is_link_local
    except ValueError:
        return "." not in host or host.endswith((".local", ".internal", ".lan", ".corp", ".home", ".localdomain"))


@rule(PROXY_ENV_MISMATCH, "network", "Proxy settings disagree between tools, cases, or NO_PROXY")
def proxy_env_mismatch(facts: Facts, _m: Matrices) -> Optional[Advice]:
    net = _net(facts)
    if net is None:
        return None
    names = {n for n, _v in net.proxy_env}
    values = dict(net.proxy_env)
    seen, fix, info_only = [], [], True
    for pair in net.proxy_conflicts:
        lower, upper = pair.split("/")
        seen.append(f"{lower} and {upper} differ ({values.get(lower)} vs {values.get(upper)}): Python tools use "
                    f"{lower}, others may use {upper}")
        fix.append(f"export {upper}=\"${lower}\"")
        info_only = False
    for scheme in ("http", "https"):
        lower, upper = f"{scheme}_proxy", f"{scheme.upper()}_PROXY"
        if upper in names and lower not in names:
            seen.append(f"only {upper} is set: wget reads only {lower}" +
                        (", and curl ignores an uppercase HTTP_PROXY" if scheme == "http" else ""))
            fix.append(f"export {lower}=\"${upper}\"")
            info_only = False
        elif lower in names and upper not in names:
            seen.append(f"only {lower} is set: Python, curl and wget read it; set {upper} too so tools that "
                        "read the uppercase name agree")
            fix.append(f"export {upper}=\"${lower}\"")
    lowered = {n.lower() for n in names}
    if "http_proxy" in lowered and not {"https_proxy", "all_proxy"} & lowered:
        seen.append("a proxy is set for http:// only: every https:// index and the model hub go direct")
        fix.append("export HTTPS_PROXY=\"${HTTP_PROXY:-$http_proxy}\" https_proxy=\"${HTTP_PROXY:-$http_proxy}\"")
        info_only = False
    for t in net.targets:
        host = urlsplit(t.url).hostname or ""
        if t.proxy and host and _internal(host):
            seen.append(f"{host} ({KIND_LABEL.get(t.kind, t.kind)}) is an internal address, but NO_PROXY does "
                        f"not list it: the proxy is asked for it")
            fix.append(f"export NO_PROXY=\"${{NO_PROXY:+$NO_PROXY,}}{host}\" no_proxy=\"${{NO_PROXY:+$NO_PROXY,}}{host}\"")
            info_only = False
        if t.no_proxy_match and names - {"NO_PROXY", "no_proxy"} and code_for(t) in (DNS_FAILURE, TCP_BLOCKED):
            seen.append(f"{t.no_proxy_match} sends {host} direct, and direct access fails: {t.failure.detail}")
            info_only = False
        if t.pip_proxy_overridden:
            seen.append(f"pip {net.pip_version} lets {t.proxy_source} win over its own proxy "
                        f"({net.pip_proxy_source}); pip 24.1 reversed that")
            info_only = False
    if net.pip_proxy:
        env_values = {v for n, v in net.proxy_env if n.lower() in ("https_proxy", "http_proxy")}
        if env_values and net.pip_proxy not in env_values:
            seen.append(f"pip uses {net.pip_proxy} ({net.pip_proxy_source}) but other tools use "
                        f"{', '.join(sorted(env_values))}")
            info_only = False
    if not seen:
        return None
    return Advice(
        "info" if info_only else "warn", "Proxy settings do not agree",
        evidence=tuple(dict.fromkeys(seen)),
        why="Each tool picks its proxy its own way (pip's own setting, requests' lowercase-first "
            "variables, curl and wget's lowercase ones, NO_PROXY suffix matches); when they disagree, "
            "one step of an install goes a different way than the step you tested.",
        fix=tuple(dict.fromkeys(fix)),
    )


# --- DNS, TCP, TLS ---------------------------------------------------------------------

def _dns_evidence(net: NetworkFacts) -> List[str]:
    out = []
    if net.nameservers:
        out.append(f"/etc/resolv.conf nameserver: {', '.join(net.nameservers)}")
    if net.wsl_generate_resolv_conf is not None:
        out.append(f"/etc/wsl.conf generateResolvConf: {'true (WSL writes resolv.conf)' if net.wsl_generate_resolv_conf else 'false'}")
    if net.wsl_networking_mode:
        out.append(f"{net.wslconfig_path} networkingMode={net.wsl_networking_mode}")
    return out


DNS_SERVERS_NOTE = ("Use your network's DNS server, or a public one: 1.1.1.1 (Cloudflare), 8.8.8.8 (Google), "
                    "223.5.5.5 (AliDNS, in mainland China).")


def _dns_fix(facts: Facts, host: str) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    net = _net(facts)
    if in_wsl(facts):
        return ((
            "printf '[network]\\ngenerateResolvConf = false\\n' | sudo tee -a /etc/wsl.conf",
            "wsl --shutdown  # in Windows PowerShell, then reopen the distro",
            "sudo rm -f /etc/resolv.conf && echo 'nameserver 1.1.1.1' | sudo tee /etc/resolv.conf",
            f"getent hosts {host}",
        ), (
            "WSL 2 writes /etc/resolv.conf itself (generateResolvConf) and points it at a Windows-side "
            "resolver that VPNs and firewalls often break; the commands stop that and set a server of your choice. "
            "If /etc/wsl.conf already has a [network] section, put the line there instead.",
            DNS_SERVERS_NOTE,
            "Or, on Windows 11 22H2 and later: in %UserProfile%\\.wslconfig under [wsl2] set "
            "networkingMode=mirrored and dnsTunneling=true, then `wsl --shutdown`"
            + (f" (now: networkingMode={net.wsl_networking_mode})." if net and net.wsl_networking_mode else "."),
        ))
    return ((f"getent hosts {host}", f"nslookup {host} 1.1.1.1", "resolvectl status"),
            ("If the lookup works against 1.1.1.1 but not by default, the configured DNS server is the problem: "
             "fix /etc/resolv.conf (or your network manager's DNS setting).", DNS_SERVERS_NOTE))


@rule(DNS_FAILURE, "network", "A package index or the model hub cannot be resolved (DNS)")
def dns_failure(facts: Facts, m: Matrices) -> Optional[Advice]:
    targets = _with(facts, DNS_FAILURE)
    if not targets:
        return None
    net = _net(facts)
    fix, notes = _dns_fix(facts, _host(targets[0]))
    hosts = ", ".join(sorted({_host(t) for t in targets}))
    if _dns_server_down(net):
        server = ", ".join(net.nameservers) or "the configured DNS server"
        return Advice(
            _severity(targets), f"The DNS server {server} (/etc/resolv.conf) resolves no name: {hosts}",
            evidence=tuple(_line(t) for t in targets) + tuple(_dns_evidence(net)),
            why="Every lookup failed, so the DNS server (or the path to it) is the problem, not the hosts: "
                "nothing can be downloaded until names resolve, and no mirror helps (its name must resolve too).",
            fix=fix, notes=notes)
    return Advice(
        _severity(targets), "DNS cannot resolve " + hosts,
        evidence=tuple(_line(t) for t in targets) + tuple(_dns_evidence(net)),
        why="Nothing can be downloaded from a host whose name does not resolve; pip reports it as "
            "\"Temporary failure in name resolution\" or NewConnectionError, which looks like a broken index.",
        fix=fix, notes=notes + mirror_options(targets, facts, DNS_FAILURE, m),
    )


@rule(DNS_SLOW, "network", "DNS answers, but slowly (over 1 s)")
def dns_slow(facts: Facts, _m: Matrices) -> Optional[Advice]:
    net = _net(facts)
    slow = [(t, s) for t in (net.targets if net else ()) for s in t.steps
            if s.name == "dns" and s.ok and s.seconds > DNS_SLOW_SECONDS]
    if not slow:
        return None
    fix, notes = _dns_fix(facts, slow[0][1].host or "")
    return Advice(
        "warn", "DNS takes over a second per name",
        evidence=tuple(f"{s.host}: resolved in {s.seconds:.1f} s" for _t, s in slow) + tuple(_dns_evidence(net)),
        why="An install resolves several hosts (index, file host, PyTorch index, model hub) and resolves "
            "again on every retry; a slow resolver makes each look like a stalled download.",
        fix=fix, notes=notes,
    )


@rule(TCP_BLOCKED, "network", "TCP connections to a host are refused, time out, or are cut")
def tcp_blocked(facts: Facts, m: Matrices) -> Optional[Advice]:
    targets = _with(facts, TCP_BLOCKED)
    if not targets:
        return None
    notes = ["A firewall, the ISP or a captive portal blocks the host; if your network needs a proxy, set it: "
             "`export HTTPS_PROXY=http://HOST:PORT HTTP_PROXY=http://HOST:PORT`."]
    if any(t.failure.ipv6_only for t in targets):
        notes.append("The host has only IPv6 addresses and this machine cannot reach IPv6: use a mirror with "
                     "an IPv4 address, or enable IPv6 on this network.")
    return Advice(
        _severity(targets), "Connections to " + ", ".join(sorted({_host(t) for t in targets})) + " do not get through",
        evidence=tuple(_line(t) for t in targets),
        why="DNS works but the TCP connection is refused, times out or is reset: something on the path "
            "drops it. pip waits for its timeout and retries, so an install hangs before failing.",
        fix=tuple(f"curl -sS -o /dev/null -w '%{{http_code}}\\n' --max-time 10 {t.url}" for t in targets[:2]),
        notes=tuple(notes) + mirror_options(targets, facts, TCP_BLOCKED, m),
    )


@rule(TLS_INTERCEPTED, "network", "TLS verification fails: a proxy or firewall is intercepting HTTPS")
def tls_intercepted(facts: Facts, _m: Matrices) -> Optional[Advice]:
    targets = _with(facts, TLS_INTERCEPTED)
    if not targets:
        return None
    pip = target_pip(facts)
    evidence = []
    for t in targets:
        evidence.append(_line(t))
        if t.tls_issuer:
            evidence.append(f"{_host(t)} presented a certificate issued by: {t.tls_issuer}")
        if t.ca_bundle:
            evidence.append(f"CA bundle used for {_host(t)}: {t.ca_bundle} ({t.ca_source})")
    issuers = sorted({t.tls_issuer for t in targets if t.tls_issuer})
    details = " ".join(t.failure.detail or "" for t in targets)
    special = []
    if "mismatch" in details or "not valid for" in details:
        special.append("The certificate is for another host name: a captive portal (log in through a "
                       "browser), a hijacked DNS answer, or a mirror URL with the wrong host.")
    if "expired" in details:
        special.append("A certificate has expired: the server's operator must renew it; check this machine's "
                       "clock too (`date`), a wrong clock makes valid certificates look expired.")
    return Advice(
        _severity(targets),
        "HTTPS certificates are not trusted" + (f": issued by {issuers[0]}" if issuers else ""),
        evidence=tuple(evidence),
        why="The certificate presented for these hosts was not issued by a CA in the bundle the tools use. "
            "On a company network that is almost always a TLS-inspecting proxy or firewall that re-signs "
            "HTTPS with the company's own root CA; trust that CA, once, for every tool.",
        fix=("sudo cp company-root-ca.crt /usr/local/share/ca-certificates/company-root-ca.crt",
             "sudo update-ca-certificates",
             f"{pip} config set global.cert {CA_FILE}",
             f"export REQUESTS_CA_BUNDLE={CA_FILE}  # requests, huggingface_hub, conda",
             f"export SSL_CERT_FILE={CA_FILE}  # httpx, uv, OpenSSL"),
        notes=tuple(special) + (
               "company-root-ca.crt is the root (top) certificate of the chain: ask IT for it, or export it from "
               "your browser's certificate viewer for any HTTPS site. Fedora/RHEL: copy it to "
               "/etc/pki/ca-trust/source/anchors/ and run `sudo update-ca-trust`.",
               "Never turn verification off (--trusted-host, verify=False): that trusts anyone in the "
               "middle, not only your company.",
               "If the issuer is the server itself (a self-signed mirror), ask its operator for a proper "
               "certificate, or trust that certificate the same way."),
    )


# --- HTTP ------------------------------------------------------------------------------

@rule(HTTP_FORBIDDEN, "network", "The index, the hub or the proxy answers 401/403")
def http_forbidden(facts: Facts, m: Matrices) -> Optional[Advice]:
    targets = _with(facts, HTTP_FORBIDDEN)
    if not targets:
        return None
    via_proxy = any(t.proxy for t in targets)
    return Advice(
        _severity(targets), "Requests are refused (401/403) by " + ", ".join(sorted({_host(t) for t in targets})),
        evidence=tuple(_line(t) for t in targets),
        why="The server (or the proxy in front of it) answered but refused: missing or wrong credentials "
            "for a private index, a proxy policy that blocks the host, or a region block.",
        fix=(f"{target_pip(facts)} config debug",)
        + tuple(f"curl -sS -o /dev/null -w '%{{http_code}}\\n' {t.url}" for t in targets[:1]),
        notes=(("A proxy sits in between: ask its administrators to allow these hosts.",) if via_proxy else ())
        + ("For a private index, put the credentials in the URL (https://USER:TOKEN@host/simple) or in "
           "keyring/.netrc; envdoctor never prints them.",) + mirror_options(targets, facts, HTTP_FORBIDDEN, m),
    )


@rule(INDEX_UNREACHABLE, "network", "A package index answers with an error, nothing, or not at all like an index")
def index_unreachable(facts: Facts, m: Matrices) -> Optional[Advice]:
    targets = _with(facts, INDEX_UNREACHABLE)
    if not targets:
        return None
    pip = target_pip(facts)
    notes = []
    if any(t.failure.status == 404 for t in targets):
        notes.append("404: the URL is not a simple index: pip's index-url usually ends in /simple "
                     "(`pip config list` shows where it is set).")
    if any((t.failure.status or 0) >= 500 for t in targets):
        notes.append("5xx: the server (or a mirror's upstream) is failing; retry later or use another index.")
    if any(t.failure.problem in ("timeout", "silent") for t in targets):
        notes.append("The server accepted the connection but never answered: a dead server, or a firewall "
                     "that lets the connection open and then drops everything.")
    if any(t.local for t in targets):
        notes.append("A find-links or file:// index points at a path that does not exist: pip skips it with a "
                     "warning and the packages you put there are not found.")
    return Advice(
        _severity(targets), "A package index cannot be used: " + ", ".join(sorted({_host(t) for t in targets})),
        evidence=tuple(_line(t) for t in targets),
        why="pip needs a working simple index for every package it resolves; one that errors or stays "
            "silent makes the install fail or hang until pip's timeout.",
        fix=(f"{pip} config list",) + tuple(f"curl -sS -o /dev/null -w '%{{http_code}}\\n' --max-time 10 {t.url}"
                                           for t in targets[:2] if not t.local),
        notes=tuple(notes) + mirror_options(targets, facts, INDEX_UNREACHABLE, m),
    )


@rule(HF_ENDPOINT_UNREACHABLE, "network", "The Hugging Face endpoint (or ModelScope) cannot be reached")
def hf_endpoint_unreachable(facts: Facts, m: Matrices) -> Optional[Advice]:
    targets = _with(facts, HF_ENDPOINT_UNREACHABLE)  # failures at DNS, TCP or a proxy have their own codes
    if not targets:
        return None
    notes = list(mirror_options(targets, facts, HF_ENDPOINT_UNREACHABLE, m))
    notes.append("Or download the model where the hub is reachable, copy ~/.cache/huggingface/hub here, and "
                 "`export HF_HUB_OFFLINE=1`.")
    return Advice(
        "warn", "Models cannot be downloaded: " + ", ".join(sorted({t.url for t in targets})) + " is unreachable",
        evidence=tuple(_line(t) for t in targets),
        why="vLLM downloads weights and tokenizer from the hub at start-up; it then fails with a connection "
            "error or hangs, after the install itself succeeded.",
        fix=tuple(f"curl -sS -o /dev/null -w '%{{http_code}}\\n' --max-time 10 {t.url}" for t in targets[:1]),
        notes=tuple(notes),
    )


# --- throughput ------------------------------------------------------------------------

def _slow(facts: Facts) -> List[NetTarget]:
    """Targets reached whose rate makes the torch wheel take over SLOW_SECONDS. A small
    sample's rate is a floor (TCP has not ramped up): only a decisively slow one counts."""
    net = _net(facts)
    return [t for t in (net.targets if net else ()) if t.throughput and t.throughput.projected_seconds
            and t.throughput.projected_seconds > SLOW_SECONDS and code_for(t) is None and not t.unused
            and (not t.throughput.small or (t.throughput.bytes_per_second or 0) < SMALL_SLOW_BPS)]


@rule(DOWNLOAD_SLOW, "network", "Downloads are slow: the torch wheel alone would take over 10 minutes")
def download_slow(facts: Facts, m: Matrices) -> Optional[Advice]:
    net = _net(facts)
    slow = _slow(facts)
    if not slow:
        return None
    evidence = tuple(
        f"{KIND_LABEL.get(t.kind, t.kind)} {t.url}: {rate(t.throughput.bytes_per_second)} from "
        f"{urlsplit(t.throughput.url).netloc.rpartition('@')[2]} over {binary_size(t.throughput.bytes)} in "
        f"{t.throughput.seconds:.1f} s: a {t.throughput.projected_bytes / 1e6:.0f} MB torch wheel would take "
        f"{duration(t.throughput.projected_seconds)}" for t in slow)
    if net.pip_timeout:
        evidence += (f"pip timeout: {net.pip_timeout} s",)
    return Advice(
        "warn", f"Downloads run at {rate(min(t.throughput.bytes_per_second for t in slow))}: "
                f"a torch wheel takes {duration(max(t.throughput.projected_seconds for t in slow))}",
        evidence=evidence,
        why="The longer one file takes, the likelier a hiccup breaks it; without resumption pip starts that "
            "wheel over, and a build that downloads it again and again can hang for hours.",
        fix=_pip_flags(facts),
        notes=tuple(mirror_options(slow, facts, DOWNLOAD_SLOW, m)) + _wheelhouse(facts)
        + (("`envdoctor check --speed` measures with a larger sample (up to 32 MiB per host).",)
           if not net.full_sample else ()),
    )


@rule(DOWNLOAD_STALLED, "network", "A transfer stopped mid-body: no bytes for 1.5 s")
def download_stalled(facts: Facts, m: Matrices) -> Optional[Advice]:
    targets = _with(facts, DOWNLOAD_STALLED)
    if not targets:
        return None
    net = _net(facts)
    timeout = net.pip_timeout or "15 (the default)"
    return Advice(
        _severity(targets), "Downloads stall: " + ", ".join(sorted({_host(t) for t in targets})),
        evidence=tuple(_line(t) for t in targets) + (f"pip timeout: {timeout} s",),
        why=f"The server or the path stopped sending in the middle of a file. pip waits {timeout} s of "
            "silence, then fails the whole install (\"Read timed out\", the first user's torch wheel at "
            "658/797 MB) unless it can resume (pip >= 25.1 with --resume-retries; on by default from 25.2).",
        fix=_pip_flags(facts),
        notes=tuple(mirror_options(targets, facts, DOWNLOAD_STALLED, m)) + _wheelhouse(facts),
    )
