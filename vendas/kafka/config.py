"""One Kafka client configuration for every part: a Java-style `client.properties` file.

Managed services (Confluent Cloud, MSK, Aiven) hand out such a file; given once with
`--kafka-config FILE` (or $VENDAS_KAFKA_CONFIG) it configures kafka-python's producer and
admin client and Spark's Kafka source and sink, with the same meaning everywhere: the Java
client's names go to Spark as `kafka.<key>`, librdkafka's spellings (`sasl.username`,
`ssl.ca.location`) are translated for it, and both are mapped to kafka-python's arguments.

Secrets (passwords, the JAAS line) stay in memory: they are never logged, never put on a
command line, and `repr()` of a configuration hides them.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vendas.errors import UserError

log = logging.getLogger(__name__)

ENV_VAR = "VENDAS_KAFKA_CONFIG"

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
_LOGIN_MODULES = {  # JAAS login module (class name suffix) -> the mechanisms it serves
    "PlainLoginModule": ("PLAIN",),
    "ScramLoginModule": ("SCRAM-SHA-256", "SCRAM-SHA-512"),
}
_JAVA_LOGIN_MODULE = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}
SECRET_KEYS = frozenset({
    "sasl.password", "sasl.jaas.config", "ssl.key.password", "ssl.keystore.password",
    "ssl.truststore.password",
})
# Settings understood here; other security settings are refused (ignoring one could
# weaken the connection silently), other client settings are ignored with a warning.
_KNOWN = frozenset({
    "bootstrap.servers", "security.protocol", "sasl.mechanism", "sasl.mechanisms",
    "sasl.jaas.config", "sasl.username", "sasl.password", "ssl.ca.location",
    "ssl.truststore.location", "ssl.truststore.type", "ssl.truststore.password",
    "ssl.endpoint.identification.algorithm", "ssl.keystore.location", "ssl.keystore.type",
    "ssl.keystore.password", "ssl.key.password", "client.id", "client.dns.lookup",
})
_SECURITY_PREFIXES = ("security.", "sasl.", "ssl.")
# Settings of other tools that client files carry along (Schema Registry, consumers'
# group settings, producer tuning the project decides itself): not connection settings.
_IGNORED_QUIETLY = ("schema.registry.", "basic.auth.", "session.timeout.ms", "acks")


# --- the file format -------------------------------------------------------------------

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _logical_lines(text: str) -> list[str]:
    """Join continued lines (an odd number of trailing backslashes), skip comments."""
    lines: list[str] = []
    pending: str | None = None
    for raw in text.splitlines():
        line = raw.lstrip(" \t\f")
        if pending is None and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        continued = trailing % 2 == 1
        if continued:
            line = line[:-1]
        pending = line if pending is None else pending + line
        if not continued:
            lines.append(pending)
            pending = None
    if pending is not None:
        lines.append(pending)
    return lines


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\" or i + 1 == len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2:i + 6]):
            out.append(chr(int(text[i + 2:i + 6], 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        i += 2
    return "".join(out)


def parse_properties(text: str) -> dict[str, str]:
    """Parse Java `.properties` text: `key=value`, `key: value` or `key value`, comments
    (`#`, `!`), line continuations and backslash escapes, as java.util.Properties does."""
    result: dict[str, str] = {}
    for line in _logical_lines(text):
        i, n = 0, len(line)
        while i < n:
            ch = line[i]
            if ch == "\\":
                i += 2
                continue
            if ch in "=: \t\f":
                break
            i += 1
        key = line[:i]
        rest = line[i:].lstrip(" \t\f")
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(" \t\f")
        result[_unescape(key)] = _unescape(rest)
    return result


_JAAS = re.compile(r"^\s*(?P<module>[\w.$]+)\s+(?P<flag>required|requisite|sufficient|optional)"
                   r"(?P<options>.*?);?\s*$", re.DOTALL)
_JAAS_OPTION = re.compile(r"""\s*([\w.\-]+)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s;]+)""",
                          re.DOTALL)


def parse_jaas(line: str) -> tuple[str, dict[str, str]]:
    """(login module class, options) of a one-module `sasl.jaas.config` value."""
    match = _JAAS.match(line)
    if not match:
        raise ValueError("not a JAAS login module line")
    options: dict[str, str] = {}
    rest = match.group("options").strip()
    pos = 0
    while pos < len(rest):
        option = _JAAS_OPTION.match(rest, pos)
        if not option:
            raise ValueError("unreadable JAAS option")
        value = option.group(2)
        if value[:1] in "\"'":
            value = re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.DOTALL)
        options[option.group(1)] = value
        pos = option.end()
        while pos < len(rest) and rest[pos] in " \t\r\n":
            pos += 1
    return match.group("module"), options


def _jaas_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- the configuration -------------------------------------------------------------------

@dataclass(frozen=True)
class KafkaClientConfig:
    """Connection settings for every Kafka client of the project (empty: PLAINTEXT)."""

    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    check_hostname: bool = True
    cert_file: str | None = None  # a PEM file with the client's certificate and key
    key_password: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_dns_lookup: str | None = None
    bootstrap_servers: str | None = None  # the file's own, if it has one
    source: str | None = None  # the file it came from, for messages

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_ssl(self) -> bool:
        return self.security_protocol.endswith("SSL")

    @property
    def secured(self) -> bool:
        return self.security_protocol != "PLAINTEXT"

    def secrets(self) -> list[str]:
        """The secret values (for tests and for scrubbing text before it is shown)."""
        return [s for s in (self.password, self.key_password) if s]

    def bootstrap(self, flag_value: str | None, default: str) -> str:
        """The address to use: the flag's when given, else the file's, else the default."""
        return flag_value or self.bootstrap_servers or default

    def python_kwargs(self) -> dict[str, Any]:
        """Arguments for kafka-python's KafkaProducer / KafkaAdminClient / KafkaConsumer."""
        kwargs: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.uses_sasl:
            kwargs.update(sasl_mechanism=self.sasl_mechanism,
                          sasl_plain_username=self.username, sasl_plain_password=self.password)
        if self.uses_ssl:
            kwargs["ssl_check_hostname"] = self.check_hostname
            if self.ca_file:
                kwargs["ssl_cafile"] = self.ca_file
            if self.cert_file:
                kwargs["ssl_certfile"] = self.cert_file
                if self.key_password:
                    kwargs["ssl_password"] = self.key_password
        if self.client_id:
            kwargs["client_id"] = self.client_id
        if self.client_dns_lookup:
            kwargs["client_dns_lookup"] = self.client_dns_lookup
        return kwargs

    def spark_options(self) -> dict[str, str]:
        """The same settings as Spark Kafka source/sink options (`kafka.<Java client key>`).

        They travel to the JVM as reader/writer options, never through spark-submit's
        command line."""
        options = {"kafka.security.protocol": self.security_protocol}
        if self.uses_sasl:
            options["kafka.sasl.mechanism"] = self.sasl_mechanism or ""
            options["kafka.sasl.jaas.config"] = (
                f"{_JAVA_LOGIN_MODULE[self.sasl_mechanism or 'PLAIN']} required "
                f"username={_jaas_quote(self.username or '')} "
                f"password={_jaas_quote(self.password or '')};"
            )
        if self.uses_ssl:
            options["kafka.ssl.endpoint.identification.algorithm"] = (
                "https" if self.check_hostname else "")
            if self.ca_file:
                options["kafka.ssl.truststore.location"] = self.ca_file
                options["kafka.ssl.truststore.type"] = "PEM"
            if self.cert_file:
                options["kafka.ssl.keystore.location"] = self.cert_file
                options["kafka.ssl.keystore.type"] = "PEM"
                if self.key_password:
                    options["kafka.ssl.key.password"] = self.key_password
        if self.client_id:
            options["kafka.client.id"] = self.client_id
        if self.client_dns_lookup:
            options["kafka.client.dns.lookup"] = self.client_dns_lookup
        return options

    def describe(self) -> str:
        """A log-safe summary (no secrets)."""
        parts = [self.security_protocol]
        if self.uses_sasl:
            parts.append(f"{self.sasl_mechanism}, usuário {self.username}")
        if self.source:
            parts.append(f"de {self.source}")
        return ", ".join(parts)


PLAINTEXT = KafkaClientConfig()


def _is_pem(path: str) -> bool:
    try:
        with open(path, "rb") as pem:
            return b"-----BEGIN " in pem.read(64 * 1024)
    except OSError:
        return False


def from_properties(props: Mapping[str, str], source: str = "a configuração do Kafka",
                    base_dir: Path | None = None) -> KafkaClientConfig:
    """Map parsed properties to a configuration; UserError (one sentence) when a setting
    cannot be honoured by every client of the project."""
    where = source

    def fail(what: str) -> UserError:
        return UserError(f"{what} ({where}).")

    def file_path(key: str) -> str:
        path = Path(props[key]).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise fail(f"O arquivo indicado em {key} não existe: {path}")
        if not os.access(path, os.R_OK):
            raise fail(f"O arquivo indicado em {key} não pode ser lido: {path}")
        return str(path)

    for key in props:
        if key in _KNOWN:
            continue
        if key.startswith(_SECURITY_PREFIXES):
            raise fail(f"A opção {key} do Kafka não é suportada por este projeto; as suportadas "
                       "são security.protocol, sasl.mechanism, sasl.jaas.config (PLAIN ou SCRAM), "
                       "sasl.username/sasl.password e certificados PEM (ssl.ca.location, "
                       "ssl.truststore.location, ssl.keystore.location)")
        if not key.startswith(_IGNORED_QUIETLY):
            log.warning("Opção %s da configuração do Kafka ignorada (não é de conexão).", key)

    protocol = props.get("security.protocol", "PLAINTEXT").strip().upper()
    if protocol not in PROTOCOLS:
        raise fail(f"security.protocol={protocol} não é suportado; use um de "
                   f"{', '.join(PROTOCOLS)}")
    mechanism = (props.get("sasl.mechanism") or props.get("sasl.mechanisms") or "").strip().upper()
    username, password = props.get("sasl.username"), props.get("sasl.password")
    if "sasl.jaas.config" in props:
        try:
            module, options = parse_jaas(props["sasl.jaas.config"])
        except ValueError:
            raise fail("Não foi possível ler sasl.jaas.config: esperado "
                       '\'...ScramLoginModule required username="..." password="...";\'') from None
        kind = module.rsplit(".", 1)[-1]
        if kind not in _LOGIN_MODULES:
            raise fail(f"O módulo de login {kind} em sasl.jaas.config não é suportado; use "
                       "PlainLoginModule ou ScramLoginModule")
        mechanism = mechanism or _LOGIN_MODULES[kind][0]
        if mechanism not in _LOGIN_MODULES[kind]:
            raise fail(f"sasl.mechanism={mechanism} não combina com {kind} em sasl.jaas.config")
        username = options.get("username", username)
        password = options.get("password", password)
    config: dict[str, Any] = {"security_protocol": protocol, "source": source}
    if protocol.startswith("SASL_"):
        mechanism = mechanism or "PLAIN"
        if mechanism not in MECHANISMS:
            raise fail(f"sasl.mechanism={mechanism} não é suportado; use um de "
                       f"{', '.join(MECHANISMS)}")
        if not username or password is None:
            raise fail(f"security.protocol={protocol} exige usuário e senha (sasl.jaas.config "
                       "ou sasl.username e sasl.password), e eles não foram informados")
        config.update(sasl_mechanism=mechanism, username=username, password=password)
    if protocol.endswith("SSL"):
        if "ssl.ca.location" in props:
            config["ca_file"] = file_path("ssl.ca.location")
        elif "ssl.truststore.location" in props:
            kind = props.get("ssl.truststore.type", "").strip().upper()
            location = file_path("ssl.truststore.location")
            if kind not in ("", "PEM") or not _is_pem(location):
                raise fail("O truststore do Kafka precisa estar em PEM (ssl.truststore.type=PEM "
                           "ou ssl.ca.location); converta um JKS/PKCS12 com `keytool -exportcert "
                           "-rfc`")
            config["ca_file"] = location
        algorithm = props.get("ssl.endpoint.identification.algorithm", "https").strip().lower()
        if algorithm not in ("", "https"):
            raise fail(f"ssl.endpoint.identification.algorithm={algorithm} não é suportado; "
                       "use https ou vazio")
        config["check_hostname"] = algorithm == "https"
        if "ssl.keystore.location" in props:
            kind = props.get("ssl.keystore.type", "").strip().upper()
            location = file_path("ssl.keystore.location")
            if kind != "PEM" or not _is_pem(location):
                raise fail("O keystore do cliente precisa estar em PEM (ssl.keystore.type=PEM, "
                           "certificado e chave no mesmo arquivo)")
            config["cert_file"] = location
            config["key_password"] = props.get("ssl.key.password")
    if props.get("client.id"):
        config["client_id"] = props["client.id"]
    if props.get("client.dns.lookup"):
        config["client_dns_lookup"] = props["client.dns.lookup"]
    if props.get("bootstrap.servers", "").strip():
        config["bootstrap_servers"] = props["bootstrap.servers"].strip()
    return KafkaClientConfig(**config)


def load(path: str | os.PathLike | None = None,
         environ: Mapping[str, str] = os.environ,
         overrides: Mapping[str, str] | None = None) -> KafkaClientConfig:
    """The configuration from `path` (the flag), else $VENDAS_KAFKA_CONFIG, else PLAINTEXT.

    `overrides` are Spark-style options (`kafka.<key>`, from --kafka-option): their
    connection settings win over the file's, for every client."""
    origin = "--kafka-config"
    if path is None or str(path) == "":
        path = environ.get(ENV_VAR) or None
        origin = ENV_VAR
    props: dict[str, str] = {}
    source, base_dir = "--kafka-option", None
    if path is not None:
        file = Path(path).expanduser()
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(f"O arquivo de configuração do Kafka {file} ({origin}) não "
                            "existe.") from None
        except (OSError, UnicodeDecodeError) as error:
            why = (error.strerror if isinstance(error, OSError) and error.strerror
                   else "não é texto UTF-8")
            raise UserError(f"Não foi possível ler o arquivo de configuração do Kafka {file} "
                            f"({origin}): {why}.") from None
        props = parse_properties(text)
        source, base_dir = str(file), file.resolve().parent
    for key, value in (overrides or {}).items():
        name = key.removeprefix("kafka.")
        if key.startswith("kafka.") and (name in _KNOWN or name.startswith(_SECURITY_PREFIXES)):
            props[name] = value
    if not props:
        return PLAINTEXT
    config = from_properties(props, source=source, base_dir=base_dir)
    log.info("Configuração do Kafka: %s.", config.describe())
    return config


def add_cli_option(parser: argparse.ArgumentParser) -> None:
    """--kafka-config, the same on every entry point."""
    parser.add_argument(
        "--kafka-config", metavar="ARQUIVO", default=None,
        help="arquivo client.properties do Kafka (security.protocol, sasl.*, ssl.*: o que "
             "Confluent Cloud, MSK ou Aiven fornecem), usado por todos os clientes; seu "
             "bootstrap.servers vale quando -b não é dado (padrão: $VENDAS_KAFKA_CONFIG)")


def scrub(text: str, config: KafkaClientConfig) -> str:
    """`text` with the configuration's secrets masked (for errors quoted from libraries)."""
    for secret in config.secrets():
        text = text.replace(secret, "****")
    return text
