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

from envdoctor.compat.tables import Matrices
from envdoctor.core.facts import KIND_LABEL, NetStep, NetTarget, NetworkFacts, Throughput
from envdoctor.core.reasons import ConfigKind
from envdoctor.core.results import DataError, Facts
from envdoctor.core.units import binary_size, duration, rate
from envdoctor.messages import Msg
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


def _failed(t: NetTarget) -> NetStep:
    """The failed step of a target _with() picked: its code came from that step."""
    step = t.failure
    if step is None:
        raise ValueError(f"{t.url}: no step failed")
    return step


def _measured(t: NetTarget) -> Tuple[Throughput, float, int, float]:
    """(throughput, bytes per second, wheel bytes, wheel seconds) of a target _slow() picked: the
    projection is made from a measured rate."""
    tp = t.throughput
    if tp is None or tp.bytes_per_second is None or tp.projected_bytes is None or tp.projected_seconds is None:
        raise ValueError(f"{t.url}: no measured rate")
    return tp, tp.bytes_per_second, tp.projected_bytes, tp.projected_seconds


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
        notes += [Msg("network.mirror.pypi", name=name, pip=pip, url=url, doc=doc) for name, url, doc in PYPI_MIRRORS]
    if "torch" in mine:
        version = _torch_pin(facts, matrices)
        notes.append(Msg("network.mirror.torch", pip=pip, version=version))
    if "hf" in mine:
        notes += [Msg("network.mirror.hf", url=HF_MIRROR), Msg("network.mirror.modelscope")]
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
    return (Msg("network.note.wheelhouse", pip=pip),)


# --- configuration ---------------------------------------------------------------------

@rule(INDEX_URL_INVALID, "network", "pip's index-url, extra-index-url or find-links is not a usable URL")
def index_url_invalid(facts: Facts, _m: Matrices) -> Optional[Advice]:
    bad = _problems(facts, ConfigKind.INDEX_URL)
    if not bad:
        return None
    return Advice(
        "error", Msg("index-url-invalid.title"),
        evidence=tuple(f"{p.where}: {p.message}" for p in bad),
        why=Msg("index-url-invalid.why"),
        fix=(f"{target_pip(facts)} config debug",),
        notes=(Msg("index-url-invalid.note"),),
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
        "error", Msg("proxy-invalid.title"),
        evidence=tuple(f"{p.where}: {p.message}" for p in bad),
        why=Msg("proxy-invalid.why"),
        fix=tuple(dict.fromkeys(fix)),
        notes=(Msg("proxy-invalid.note"),),
    )


@rule(PIP_CONFIG_INVALID, "network", "A pip configuration file does not parse: every pip command fails")
def pip_config_invalid(facts: Facts, _m: Matrices) -> Optional[Advice]:
    bad = _problems(facts, ConfigKind.PIP_CONFIG)
    if not bad:
        return None
    return Advice(
        "error", Msg("pip-config-invalid.title"),
        evidence=tuple(f"{p.where}: {p.message}" for p in bad),
        why=Msg("pip-config-invalid.why"),
        fix=tuple(f"mv {p.where} {p.where}.broken" for p in bad) + (f"{target_pip(facts)} config debug",),
        notes=(Msg("pip-config-invalid.note"),),
    )


@rule(UV_CONFIG_INVALID, "network", "A uv configuration file does not parse: uv refuses to run")
def uv_config_invalid(facts: Facts, _m: Matrices) -> Optional[Advice]:
    bad = _problems(facts, ConfigKind.UV_CONFIG)
    if not bad:
        return None
    return Advice(  # warn: it blocks uv, and pip installs still work
        "warn", Msg("uv-config-invalid.title"),
        evidence=tuple(f"{p.where}: {p.message}" for p in bad),
        why=Msg("uv-config-invalid.why"),
        fix=tuple(f"mv {p.where} {p.where}.broken" for p in bad if not p.where.endswith("pyproject.toml")),
        notes=(Msg("uv-config-invalid.note"),),
        docs="https://docs.astral.sh/uv/concepts/configuration-files/",
    )


@rule(CONDARC_INVALID, "network", "A .condarc does not parse: conda cannot read its channels")
def condarc_invalid(facts: Facts, _m: Matrices) -> Optional[Advice]:
    bad = _problems(facts, ConfigKind.CONDARC)
    if not bad:
        return None
    return Advice(  # warn: it blocks conda, and pip installs still work
        "warn", Msg("condarc-invalid.title"),
        evidence=tuple(f"{p.where}: {p.message}" for p in bad),
        why=Msg("condarc-invalid.why"),
        fix=tuple(f"mv {p.where} {p.where}.broken" for p in bad) + ("conda config --show-sources",),
        notes=(Msg("condarc-invalid.note"),),
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
        "error", Msg("ca-bundle-invalid.title"),
        evidence=tuple(f"{p.where}: {p.message}" for p in bad),
        why=Msg("ca-bundle-invalid.why"),
        fix=tuple(dict.fromkeys(fix)),
        notes=(Msg("ca-bundle-invalid.note", ca=CA_FILE),),
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


def _proxy_advice(facts: Facts, targets: Sequence[NetTarget], code: str) -> Advice:
    proxies = sorted({t.proxy or "?" for t in targets})
    sources = sorted({t.proxy_source for t in targets if t.proxy_source})
    notes = [Msg("network.proxy.note.correct")]
    if _wsl_loopback_proxy(facts, targets):
        notes.insert(0, Msg("network.proxy.note.wsl-loopback"))
    every = len(targets) > 1 and len(proxies) == 1
    return Advice(
        _severity(targets), Msg("network.proxy.title", proxies=", ".join(proxies),
                                sources=", ".join(sources) or "?", what=Msg(f"{code}.what"),
                                every=Msg("network.proxy.every", count=len(targets)) if every else ""),
        evidence=tuple(_line(t) for t in targets),
        why=Msg(f"{code}.why"), fix=_proxy_fix(facts, targets), notes=tuple(notes),
    )


@rule(PROXY_REFUSED, "network", "The configured proxy refuses connections or refuses to forward")
def proxy_refused(facts: Facts, _m: Matrices) -> Optional[Advice]:
    targets = _with(facts, PROXY_REFUSED)
    if not targets:
        return None
    return _proxy_advice(facts, targets, PROXY_REFUSED)


@rule(PROXY_UNRESPONSIVE, "network", "The configured proxy does not answer")
def proxy_unresponsive(facts: Facts, _m: Matrices) -> Optional[Advice]:
    targets = _with(facts, PROXY_UNRESPONSIVE)
    if not targets:
        return None
    return _proxy_advice(facts, targets, PROXY_UNRESPONSIVE)


@rule(PROXY_AUTH_REQUIRED, "network", "The proxy answers 407: it needs credentials")
def proxy_auth_required(facts: Facts, _m: Matrices) -> Optional[Advice]:
    targets = _with(facts, PROXY_AUTH_REQUIRED)
    if not targets:
        return None
    asks = {scheme.lower() for t in targets for scheme in _failed(t).auth}
    notes = [Msg("proxy-auth-required.note.encode")]
    if asks & WINDOWS_AUTH:
        notes.insert(0, Msg("proxy-auth-required.note.ntlm"))
    proxy = next((t.proxy for t in targets if t.proxy), "http://HOST:PORT")
    authority, slash, path = proxy.split("://", 1)[-1].partition("/")
    plain = authority.rpartition("@")[2] + slash + path  # host:port, without the (masked) credentials
    sources = sorted({t.proxy_source for t in targets if t.proxy_source})
    notes.append(Msg("proxy-auth-required.note.no-proxy",
                     commands=" and ".join(f"`{c}`" for c in _proxy_fix(facts, targets))))
    return Advice(
        _severity(targets), Msg("proxy-auth-required.title", proxy=plain, sources=", ".join(sources) or "?"),
        evidence=tuple(_line(t) for t in targets),
        why=Msg("proxy-auth-required.why"),
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
        seen.append(Msg("proxy-env-mismatch.evidence.differ", lower=lower, upper=upper, a=values.get(lower),
                        b=values.get(upper)))
        fix.append(f"export {upper}=\"${lower}\"")
        info_only = False
    for scheme in ("http", "https"):
        lower, upper = f"{scheme}_proxy", f"{scheme.upper()}_PROXY"
        if upper in names and lower not in names:
            seen.append(Msg("proxy-env-mismatch.evidence.only-upper", upper=upper, lower=lower,
                            curl=Msg("proxy-env-mismatch.evidence.curl") if scheme == "http" else ""))
            fix.append(f"export {lower}=\"${upper}\"")
            info_only = False
        elif lower in names and upper not in names:
            seen.append(Msg("proxy-env-mismatch.evidence.only-lower", lower=lower, upper=upper))
            fix.append(f"export {upper}=\"${lower}\"")
    lowered = {n.lower() for n in names}
    if "http_proxy" in lowered and not {"https_proxy", "all_proxy"} & lowered:
        seen.append(Msg("proxy-env-mismatch.evidence.http-only"))
        fix.append("export HTTPS_PROXY=\"${HTTP_PROXY:-$http_proxy}\" https_proxy=\"${HTTP_PROXY:-$http_proxy}\"")
        info_only = False
    for t in net.targets:
        host = urlsplit(t.url).hostname or ""
        if t.proxy and host and _internal(host):
            seen.append(Msg("proxy-env-mismatch.evidence.internal", host=host, label=KIND_LABEL.get(t.kind, t.kind)))
            fix.append(f"export NO_PROXY=\"${{NO_PROXY:+$NO_PROXY,}}{host}\" "
                       f"no_proxy=\"${{NO_PROXY:+$NO_PROXY,}}{host}\"")
            info_only = False
        if t.no_proxy_match and names - {"NO_PROXY", "no_proxy"} and code_for(t) in (DNS_FAILURE, TCP_BLOCKED):
            seen.append(Msg("proxy-env-mismatch.evidence.no-proxy", match=t.no_proxy_match, host=host,
                            detail=_failed(t).detail))
            info_only = False
        if t.pip_proxy_overridden:
            seen.append(Msg("proxy-env-mismatch.evidence.pip-overridden", pip=net.pip_version, source=t.proxy_source,
                            pip_source=net.pip_proxy_source))
            info_only = False
    if net.pip_proxy:
        env_values = {v for n, v in net.proxy_env if n.lower() in ("https_proxy", "http_proxy")}
        if env_values and net.pip_proxy not in env_values:
            seen.append(Msg("proxy-env-mismatch.evidence.pip-differs", proxy=net.pip_proxy,
                            source=net.pip_proxy_source, others=", ".join(sorted(env_values))))
            info_only = False
    if not seen:
        return None
    return Advice(
        "info" if info_only else "warn", Msg("proxy-env-mismatch.title"),
        evidence=tuple(dict.fromkeys(seen)),
        why=Msg("proxy-env-mismatch.why"),
        fix=tuple(dict.fromkeys(fix)),
    )


# --- DNS, TCP, TLS ---------------------------------------------------------------------

def _dns_evidence(net: NetworkFacts) -> List[str]:
    out = []
    if net.nameservers:
        out.append(f"/etc/resolv.conf nameserver: {', '.join(net.nameservers)}")
    if net.wsl_generate_resolv_conf is not None:
        generate = Msg("network.dns.evidence.generate-true") if net.wsl_generate_resolv_conf else "false"
        out.append(f"/etc/wsl.conf generateResolvConf: {generate}")
    if net.wsl_networking_mode:
        out.append(f"{net.wslconfig_path} networkingMode={net.wsl_networking_mode}")
    return out


DNS_SERVERS_NOTE = Msg("network.dns.servers")


def _dns_fix(facts: Facts, host: str) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    net = _net(facts)
    if in_wsl(facts):
        return ((
            "printf '[network]\\ngenerateResolvConf = false\\n' | sudo tee -a /etc/wsl.conf",
            "wsl --shutdown  # in Windows PowerShell, then reopen the distro",
            "sudo rm -f /etc/resolv.conf && echo 'nameserver 1.1.1.1' | sudo tee /etc/resolv.conf",
            f"getent hosts {host}",
        ), (
            Msg("network.dns.note.wsl"),
            DNS_SERVERS_NOTE,
            Msg("network.dns.note.mirrored", now=Msg("network.dns.note.now", mode=net.wsl_networking_mode)
                if net and net.wsl_networking_mode else ""),
        ))
    return ((f"getent hosts {host}", f"nslookup {host} 1.1.1.1", "resolvectl status"),
            (Msg("network.dns.note.resolv"), DNS_SERVERS_NOTE))


@rule(DNS_FAILURE, "network", "A package index or the model hub cannot be resolved (DNS)")
def dns_failure(facts: Facts, m: Matrices) -> Optional[Advice]:
    targets = _with(facts, DNS_FAILURE)
    net = _net(facts)
    if net is None or not targets:
        return None
    fix, notes = _dns_fix(facts, _host(targets[0]))
    hosts = ", ".join(sorted({_host(t) for t in targets}))
    if _dns_server_down(net):
        server = ", ".join(net.nameservers) or Msg("dns-failure.configured-server")
        return Advice(
            _severity(targets), Msg("dns-failure.title.server", server=server, hosts=hosts),
            evidence=tuple(_line(t) for t in targets) + tuple(_dns_evidence(net)),
            why=Msg("dns-failure.why.server"),
            fix=fix, notes=notes)
    return Advice(
        _severity(targets), Msg("dns-failure.title", hosts=hosts),
        evidence=tuple(_line(t) for t in targets) + tuple(_dns_evidence(net)),
        why=Msg("dns-failure.why"),
        fix=fix, notes=notes + mirror_options(targets, facts, DNS_FAILURE, m),
    )


@rule(DNS_SLOW, "network", "DNS answers, but slowly (over 1 s)")
def dns_slow(facts: Facts, _m: Matrices) -> Optional[Advice]:
    net = _net(facts)
    slow = [(t, s) for t in (net.targets if net else ()) for s in t.steps
            if s.name == "dns" and s.ok and s.seconds > DNS_SLOW_SECONDS]
    if net is None or not slow:
        return None
    fix, notes = _dns_fix(facts, slow[0][1].host or "")
    return Advice(
        "warn", Msg("dns-slow.title"),
        evidence=tuple(Msg("dns-slow.evidence", host=s.host, seconds=f"{s.seconds:.1f}") for _t, s in slow)
        + tuple(_dns_evidence(net)),
        why=Msg("dns-slow.why"),
        fix=fix, notes=notes,
    )


@rule(TCP_BLOCKED, "network", "TCP connections to a host are refused, time out, or are cut")
def tcp_blocked(facts: Facts, m: Matrices) -> Optional[Advice]:
    targets = _with(facts, TCP_BLOCKED)
    if not targets:
        return None
    notes = [Msg("tcp-blocked.note.firewall")]
    if any(_failed(t).ipv6_only for t in targets):
        notes.append(Msg("tcp-blocked.note.ipv6"))
    return Advice(
        _severity(targets), Msg("tcp-blocked.title", hosts=", ".join(sorted({_host(t) for t in targets}))),
        evidence=tuple(_line(t) for t in targets),
        why=Msg("tcp-blocked.why"),
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
            evidence.append(Msg("tls-intercepted.evidence.issuer", host=_host(t), issuer=t.tls_issuer))
        if t.ca_bundle:
            evidence.append(Msg("tls-intercepted.evidence.bundle", host=_host(t), bundle=t.ca_bundle,
                                source=t.ca_source))
    issuers = sorted({t.tls_issuer for t in targets if t.tls_issuer})
    details = " ".join(_failed(t).detail or "" for t in targets)
    special = []
    if "mismatch" in details or "not valid for" in details:
        special.append(Msg("tls-intercepted.note.mismatch"))
    if "expired" in details:
        special.append(Msg("tls-intercepted.note.expired"))
    return Advice(
        _severity(targets),
        Msg("tls-intercepted.title",
            issuer=Msg("tls-intercepted.title.issuer", issuer=issuers[0]) if issuers else ""),
        evidence=tuple(evidence),
        why=Msg("tls-intercepted.why"),
        fix=("sudo cp company-root-ca.crt /usr/local/share/ca-certificates/company-root-ca.crt",
             "sudo update-ca-certificates",
             f"{pip} config set global.cert {CA_FILE}",
             f"export REQUESTS_CA_BUNDLE={CA_FILE}  # requests, huggingface_hub, conda",
             f"export SSL_CERT_FILE={CA_FILE}  # httpx, uv, OpenSSL"),
        notes=tuple(special) + (Msg("tls-intercepted.note.root-ca"), Msg("tls-intercepted.note.never-off"),
                                Msg("tls-intercepted.note.self-signed")),
    )


# --- HTTP ------------------------------------------------------------------------------

@rule(HTTP_FORBIDDEN, "network", "The index, the hub or the proxy answers 401/403")
def http_forbidden(facts: Facts, m: Matrices) -> Optional[Advice]:
    targets = _with(facts, HTTP_FORBIDDEN)
    if not targets:
        return None
    via_proxy = any(t.proxy for t in targets)
    return Advice(
        _severity(targets), Msg("http-forbidden.title", hosts=", ".join(sorted({_host(t) for t in targets}))),
        evidence=tuple(_line(t) for t in targets),
        why=Msg("http-forbidden.why"),
        fix=(f"{target_pip(facts)} config debug",)
        + tuple(f"curl -sS -o /dev/null -w '%{{http_code}}\\n' {t.url}" for t in targets[:1]),
        notes=((Msg("http-forbidden.note.proxy"),) if via_proxy else ())
        + (Msg("http-forbidden.note.private"),) + mirror_options(targets, facts, HTTP_FORBIDDEN, m),
    )


@rule(INDEX_UNREACHABLE, "network", "A package index answers with an error, nothing, or not at all like an index")
def index_unreachable(facts: Facts, m: Matrices) -> Optional[Advice]:
    targets = _with(facts, INDEX_UNREACHABLE)
    if not targets:
        return None
    pip = target_pip(facts)
    notes = []
    if any(_failed(t).status == 404 for t in targets):
        notes.append(Msg("index-unreachable.note.404"))
    if any((_failed(t).status or 0) >= 500 for t in targets):
        notes.append(Msg("index-unreachable.note.5xx"))
    if any(_failed(t).problem in ("timeout", "silent") for t in targets):
        notes.append(Msg("index-unreachable.note.silent"))
    if any(t.local for t in targets):
        notes.append(Msg("index-unreachable.note.local"))
    return Advice(
        _severity(targets), Msg("index-unreachable.title", hosts=", ".join(sorted({_host(t) for t in targets}))),
        evidence=tuple(_line(t) for t in targets),
        why=Msg("index-unreachable.why"),
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
    notes.append(Msg("hf-endpoint-unreachable.note.offline"))
    return Advice(
        "warn", Msg("hf-endpoint-unreachable.title", urls=", ".join(sorted({t.url for t in targets}))),
        evidence=tuple(_line(t) for t in targets),
        why=Msg("hf-endpoint-unreachable.why"),
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
    if net is None or not slow:
        return None
    measured = [(t, *_measured(t)) for t in slow]
    evidence: Tuple[str, ...] = tuple(
        Msg("download-slow.evidence", label=KIND_LABEL.get(t.kind, t.kind), url=t.url, rate=rate(bps),
            host=urlsplit(tp.url).netloc.rpartition("@")[2], size=binary_size(tp.bytes), seconds=f"{tp.seconds:.1f}",
            mb=f"{wheel / 1e6:.0f}", time=duration(wheel_s)) for t, tp, bps, wheel, wheel_s in measured)
    if net.pip_timeout:
        evidence += (Msg("network.evidence.pip-timeout", timeout=net.pip_timeout),)
    return Advice(
        "warn", Msg("download-slow.check.title", rate=rate(min(bps for _t, _tp, bps, _w, _ws in measured)),
                    time=duration(max(ws for _t, _tp, _bps, _w, ws in measured))),
        evidence=evidence,
        why=Msg("download-slow.check.why"),
        fix=_pip_flags(facts),
        notes=tuple(mirror_options(slow, facts, DOWNLOAD_SLOW, m)) + _wheelhouse(facts)
        + ((Msg("download-slow.note.speed"),)
           if not net.full_sample else ()),
    )


@rule(DOWNLOAD_STALLED, "network", "A transfer stopped mid-body: no bytes for 1.5 s")
def download_stalled(facts: Facts, m: Matrices) -> Optional[Advice]:
    targets = _with(facts, DOWNLOAD_STALLED)
    net = _net(facts)
    if net is None or not targets:
        return None
    timeout = net.pip_timeout or Msg("download-stalled.default-timeout")
    return Advice(
        _severity(targets), Msg("download-stalled.check.title", hosts=", ".join(sorted({_host(t) for t in targets}))),
        evidence=tuple(_line(t) for t in targets) + (Msg("network.evidence.pip-timeout", timeout=timeout),),
        why=Msg("download-stalled.check.why", timeout=timeout),
        fix=_pip_flags(facts),
        notes=tuple(mirror_options(targets, facts, DOWNLOAD_STALLED, m)) + _wheelhouse(facts),
    )
