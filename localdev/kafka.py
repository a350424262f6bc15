"""A real Apache Kafka (KRaft) for the demo and the tests, without Docker.

One node by default; three (`--brokers 3`) on consecutive ports for the multi-broker tests.
Each node is a combined broker+controller: three JVMs instead of six on a laptop, and a
quorum of three voters that survives one node killed. `--security sasl_ssl` gives the client
listener SASL_SSL with SCRAM-SHA-512 users created at format time and TLS from a CA and
certificate made here with openssl; `cliente.properties` beside the data says how to connect.

The broker's jars are resolved from Maven Central by jgo's pure-Python resolver and
cached, so a fresh machine needs only Python and Java. Each setting (security x node count)
keeps its own data under one directory (`.kafka/` for `make kafka-up`, a temp dir in tests),
so switching settings needs no clean-up.

Secrets: passwords are generated here, kept in 0600 files, and reach the JVMs only through
files (server.properties; a java @argfile for the storage format step), never argv.

Usage: python -m localdev.kafka {up,down,status} [--port 9092] [--dir .kafka]
       [--security plaintext|sasl_ssl] [--brokers 1|3]
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from localdev.processes import ensure_ports_free, free_port_run, ports_free
from localdev.service import (
    Daemon,
    LocalService,
    command_line,
    describe_pids,
    run_action,
    stop_all,
)
from vendas.errors import UserError
from vendas.kafka.config import PLAINTEXT, KafkaClientConfig
from vendas.kafka.config import load as load_client_config
from vendas.spark.java import java_executable

# The newest release Maven Central serves here; the whole suite runs against it.
KAFKA_VERSION = "4.4.0"
BROKER_COORDINATES = f"org.apache.kafka:kafka_2.13:{KAFKA_VERSION}"
# Kafka logs through SLF4J; this binding sends it to log4j2 (which Kafka already brings).
LOG_BINDING_COORDINATES = "org.apache.logging.log4j:log4j-slf4j-impl:2.24.3"
BROKER_HEAP = "-Xmx768m"
SECURITY_SETTINGS = ("plaintext", "sasl_ssl")
SCRAM_MECHANISM = "SCRAM-SHA-512"
CLIENT_USER = "vendas"
BROKER_USER = "broker"  # the brokers' own inter-broker connections
CLIENT_PROPERTIES = "cliente.properties"

log = logging.getLogger(__name__)

_LOG4J2_CONFIG = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka.server.KafkaRaftServer
logger.kafka.level = info
"""


def broker_classpath() -> str:
    """Resolve (once, then from jgo's cache) the broker's runtime classpath."""
    import jgo  # imported here: only the broker starter needs it

    jars: list[str] = []
    for coordinates in (BROKER_COORDINATES, LOG_BINDING_COORDINATES):
        # Two separate environments: resolved together, jgo mediates kafka-clients
        # down to an older version that the broker cannot run with.
        env_dir = Path(jgo.build(coordinates).path)
        jars += sorted(str(p) for p in env_dir.rglob("*.jar"))
    return os.pathsep.join(jars)


def broker_answers(bootstrap_servers: str, timeout_s: float = 3.0,
                   client_config: KafkaClientConfig = PLAINTEXT) -> bool:
    """True when a Kafka broker answers a metadata request at that address."""
    # imported here: the client library is not needed to read KAFKA_VERSION
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    from vendas.kafka.admin import broker_reachable

    # nobody listening is answered at once; the client alone would retry until its timeout
    if not broker_reachable(bootstrap_servers, timeout_s):
        return False
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers,
            request_timeout_ms=int(timeout_s * 1000),
            bootstrap_timeout_ms=int(timeout_s * 1000),
            **client_config.python_kwargs(),
        )
    except (KafkaError, ValueError, OSError):
        return False
    try:
        admin.describe_cluster()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (created so: never readable by others)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def _properties(settings: dict[str, str]) -> str:
    # values written here never contain backslashes or line breaks (paths, hosts, ids,
    # URL-safe passwords), so no escaping is needed
    return "".join(f"{k}={v}\n" for k, v in settings.items())


@dataclass
class KafkaNode:
    """One combined broker+controller process whose state lives in `directory`."""

    node_id: int
    directory: Path
    port: int
    controller_port: int
    host: str = "localhost"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def daemon(self) -> Daemon:
        return _broker_daemon(self.directory)

    @property
    def log_file(self) -> Path:
        return self.daemon.log_file

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def config_file(self) -> Path:
        return self.directory / "server.properties"

    def pid(self) -> int | None:
        """PID of the broker this directory started, if it still runs."""
        return self.daemon.pid()

    def kill(self) -> None:
        """Kill -9 the broker (fault-injection tests): no clean shutdown."""
        self.daemon.kill()


def _broker_daemon(directory: Path) -> Daemon:
    return Daemon("broker", directory)


@dataclass
class LocalKafka(LocalService):
    """The local Kafka: `brokers` nodes on consecutive ports from `port`, their controllers
    on consecutive ports from `controller_port`, with plaintext or SASL_SSL clients."""

    directory: Path
    port: int = 9092
    controller_port: int = 9093
    host: str = "localhost"
    security: str = "plaintext"
    brokers: int = 1
    nodes: list[KafkaNode] = field(init=False)

    label = "O Kafka local"

    def __post_init__(self) -> None:
        if self.security not in SECURITY_SETTINGS:
            raise UserError(f"KAFKA_SECURITY={self.security} não é suportado; use "
                            f"{' ou '.join(SECURITY_SETTINGS)}.")
        if self.brokers < 1:
            raise UserError("KAFKA_BROKERS precisa ser 1 ou mais.")
        self.nodes = [
            KafkaNode(i + 1,
                      self.layout_dir / f"no-{i + 1}" if self.brokers > 1 else self.layout_dir,
                      self.port + i, self.controller_port + i, self.host)
            for i in range(self.brokers)
        ]

    # --- where things are ----------------------------------------------------------

    @property
    def layout_dir(self) -> Path:
        """This setting's own data: switching settings keeps the other one's intact."""
        return self.directory / f"{self.security}-{self.brokers}"

    @property
    def bootstrap_servers(self) -> str:
        """The first node's address (clients learn the others from it)."""
        return self.nodes[0].address

    @property
    def all_servers(self) -> str:
        return ",".join(node.address for node in self.nodes)

    @property
    def client_properties(self) -> Path:
        return self.directory / CLIENT_PROPERTIES

    @property
    def tls_dir(self) -> Path:
        return self.directory / "tls"

    @property
    def ca_file(self) -> Path:
        return self.tls_dir / "ca.pem"

    # single-node compatibility (tests and messages talk about "the" broker)
    @property
    def data_dir(self) -> Path:
        return self.nodes[0].data_dir

    def pid(self) -> int | None:
        return self.nodes[0].pid()

    def client_config(self) -> KafkaClientConfig:
        """How the project's clients connect (what cliente.properties says)."""
        if self.security == "plaintext":
            return PLAINTEXT
        return load_client_config(self.client_properties)

    # --- life cycle ----------------------------------------------------------------

    def daemons(self) -> list[Daemon]:
        """One broker+controller process a node."""
        return [node.daemon for node in self.nodes]

    def up(self, timeout_s: float = 120.0) -> None:
        """Start the nodes that are not running (unless another Kafka already answers
        there), write cliente.properties, wait until every node answers."""
        self._refuse_other_layouts()
        if not self.pids() and broker_answers(self.bootstrap_servers):
            log.info("Já existe um Kafka respondendo em %s; ele será usado.",
                     self.bootstrap_servers)
            return
        super().up(timeout_s)
        log.info("Kafka pronto em %s.", self.all_servers)
        if self.security == "sasl_ssl":
            log.info("Clientes: SASL_SSL (SCRAM-SHA-512, usuário %s); use "
                     "--kafka-config %s (a senha está nele, legível só por você).",
                     CLIENT_USER, self.client_properties)

    def ready(self) -> bool:
        """Every node answers a metadata request, as the project's clients connect."""
        config = self.client_config()
        return all(broker_answers(node.address, timeout_s=2.0, client_config=config)
                   for node in self.nodes)

    def down(self, timeout_s: float = 30.0) -> bool:
        """Stop every node this directory started (whatever its setting); False if none ran."""
        return stop_all([_broker_daemon(pid_file.parent)
                         for pid_file in sorted(self.directory.glob("**/broker.pid"))], timeout_s)

    def kill(self) -> None:
        """Kill -9 every node (fault-injection tests): no clean shutdown."""
        for node in self.nodes:
            node.kill()

    def _refuse_other_layouts(self) -> None:
        for pid_file in sorted(self.directory.glob("*/**/broker.pid")):
            layout = pid_file.relative_to(self.directory).parts[0]
            if layout != self.layout_dir.name and _broker_daemon(pid_file.parent).pid():
                raise UserError(
                    f"O Kafka local já está rodando com outra configuração ({layout}); "
                    "pare-o com `make kafka-down` antes de trocar KAFKA_SECURITY/KAFKA_BROKERS.")

    def launch(self, daemons: list[Daemon]) -> None:
        """Resolve the jars, write this setting's files, format new nodes, start them."""
        nodes = [node for node in self.nodes if node.daemon in daemons]
        java = java_executable()
        ensure_ports_free(self.host,
                          [port for node in nodes for port in (node.port, node.controller_port)],
                          "libere-a ou escolha outra com KAFKA_PORT=<porta>")
        self.layout_dir.mkdir(parents=True, exist_ok=True)
        log.info("Preparando o Apache Kafka %s (na primeira vez, os jars vêm do Maven Central)...",
                 KAFKA_VERSION)
        classpath = broker_classpath()
        passwords = self._passwords() if self.security == "sasl_ssl" else {}
        if passwords:
            self._make_tls()
        self._write_client_properties(passwords)
        cluster_id = self._cluster_id()
        for node in nodes:
            self._write_config(node, passwords)
            if not (node.data_dir / "meta.properties").exists():
                self._format(java, classpath, node, cluster_id, passwords)
        for node in nodes:
            pid = node.daemon.start(
                [java, BROKER_HEAP, "-XX:+UseG1GC",
                 f"-Dlog4j2.configurationFile={self.layout_dir / 'log4j2.properties'}",
                 "-cp", classpath, "kafka.Kafka", str(node.config_file)])
            log.info("Kafka iniciado (nó %d, PID %d), aguardando responder em %s...",
                     node.node_id, pid, node.address)

    def _cluster_id(self) -> str:
        """One id for every node of this setting, kept so that restarted nodes match."""
        path = self.layout_dir / "cluster.id"
        if path.exists():
            return path.read_text().strip()
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        path.write_text(cluster_id + "\n")
        return cluster_id

    def _passwords(self) -> dict[str, str]:
        """The SCRAM passwords of this setting, generated on its first start (0600 file)."""
        path = self.layout_dir / "senhas.properties"
        if path.exists():
            from vendas.kafka.config import parse_properties

            return parse_properties(path.read_text())
        passwords = {CLIENT_USER: secrets.token_urlsafe(24), BROKER_USER: secrets.token_urlsafe(24)}
        _write_private(path, _properties(passwords))
        return passwords

    def _format(self, java: str, classpath: str, node: KafkaNode, cluster_id: str,
                passwords: dict[str, str]) -> None:
        # "--cluster-id=ID", not "-t ID": one id in 64 starts with "-" and would be
        # taken for an option
        args = ["-cp", classpath, "kafka.tools.StorageTool", "format",
                f"--cluster-id={cluster_id}", "-c", str(node.config_file)]
        for user, password in passwords.items():
            args += ["--add-scram", f"{SCRAM_MECHANISM}=[name={user},password={password}]"]
        # The java launcher reads its arguments from an @argfile: the SCRAM passwords
        # reach the JVM without ever being on a command line (ps shows only the file name).
        argfile = node.directory / "format.args"
        _write_private(argfile, "".join(f'"{a}"\n' for a in args))
        try:
            formatted = subprocess.run([java, f"@{argfile}"], capture_output=True, text=True,
                                       check=False)
        finally:
            argfile.unlink(missing_ok=True)
        if formatted.returncode != 0:
            why = (formatted.stderr.strip() or formatted.stdout.strip()).splitlines()
            for password in passwords.values():
                why = [line.replace(password, "****") for line in why]
            raise UserError(f"Não foi possível formatar o diretório de dados do Kafka local "
                            f"({node.data_dir}): {why[-1] if why else 'erro desconhecido'}.")

    def _make_tls(self) -> None:
        """A CA and a certificate for localhost signed by it (PEM, via openssl), once."""
        tls = self.tls_dir
        keystore = tls / "broker-keystore.pem"
        if keystore.exists() and self.ca_file.exists():
            return
        tls.mkdir(parents=True, exist_ok=True)
        os.chmod(tls, 0o700)
        (tls / "broker.ext").write_text(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth,clientAuth\n"
            f"subjectAltName=DNS:{self.host},DNS:localhost,IP:127.0.0.1\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
        steps = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650",
             "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=vendas-ecommerce CA local",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-keyout", "broker.key",
             "-out", "broker.csr", "-subj", f"/CN={self.host}"],
            ["x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-sha256", "-days", "3650", "-out", "broker.crt",
             "-extfile", "broker.ext"],
        ]
        for step in steps:
            try:
                done = subprocess.run(["openssl", *step], cwd=tls, capture_output=True,
                                      text=True, check=False)
            except FileNotFoundError:
                raise UserError("O openssl não foi encontrado; instale-o (pacote openssl) para "
                                "usar KAFKA_SECURITY=sasl_ssl.") from None
            if done.returncode != 0:
                why = done.stderr.strip().splitlines()
                raise UserError("Não foi possível criar o certificado TLS do Kafka local: "
                                f"{why[-1] if why else 'erro do openssl'}.")
        for name in ("ca.key", "broker.key"):
            os.chmod(tls / name, 0o600)
        # Kafka's PEM keystore: the (PKCS#8) private key and the certificate chain in one file
        _write_private(keystore, "".join(
            (tls / name).read_text() for name in ("broker.key", "broker.crt", "ca.pem")))

    def _write_client_properties(self, passwords: dict[str, str]) -> None:
        """cliente.properties: what a managed service would hand out for this Kafka."""
        settings = {"bootstrap.servers": self.all_servers}
        if passwords:
            settings.update({
                "security.protocol": "SASL_SSL",
                "sasl.mechanism": SCRAM_MECHANISM,
                "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule "
                                    f'required username="{CLIENT_USER}" '
                                    f'password="{passwords[CLIENT_USER]}";',
                "ssl.truststore.type": "PEM",
                "ssl.truststore.location": str(self.ca_file),
            })
        else:
            settings["security.protocol"] = "PLAINTEXT"
        _write_private(self.client_properties,
                       "# Kafka local do vendas-ecommerce (gerado por `make kafka-up`)\n"
                       + _properties(settings))

    def _write_config(self, node: KafkaNode, passwords: dict[str, str]) -> None:
        (self.layout_dir / "log4j2.properties").write_text(_LOG4J2_CONFIG)
        replication = str(min(3, self.brokers))
        min_isr = str(min(2, self.brokers))
        voters = ",".join(f"{n.node_id}@{n.host}:{n.controller_port}" for n in self.nodes)
        listener = "SASL_SSL" if passwords else "PLAINTEXT"
        settings = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": voters,
            "listeners": f"{listener}://{node.host}:{node.port},"
                         f"CONTROLLER://{node.host}:{node.controller_port}",
            "advertised.listeners": f"{listener}://{node.host}:{node.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": listener,
            "listener.security.protocol.map": f"CONTROLLER:PLAINTEXT,{listener}:{listener}",
            "log.dirs": str(node.data_dir),
            "num.partitions": "2",
            # what a real cluster operator sets: topics created with the broker defaults
            # (kafka_admin.BROKER_DEFAULT) get replication 3 and min.insync.replicas 2
            "default.replication.factor": replication,
            "min.insync.replicas": min_isr,
            "offsets.topic.replication.factor": replication,
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": replication,
            "transaction.state.log.min.isr": min_isr,
            "share.coordinator.state.topic.replication.factor": replication,
            "share.coordinator.state.topic.min.isr": min_isr,
            "group.initial.rebalance.delay.ms": "0",
        }
        if passwords:
            settings.update({
                "sasl.enabled.mechanisms": SCRAM_MECHANISM,
                "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISM,
                # the brokers' own credentials, read from this (0600) file, not from argv
                f"listener.name.sasl_ssl.{SCRAM_MECHANISM.lower()}.sasl.jaas.config":
                    "org.apache.kafka.common.security.scram.ScramLoginModule required "
                    f'username="{BROKER_USER}" password="{passwords[BROKER_USER]}";',
                "ssl.keystore.type": "PEM",
                "ssl.keystore.location": str(self.tls_dir / "broker-keystore.pem"),
                "ssl.truststore.type": "PEM",
                "ssl.truststore.location": str(self.ca_file),
                "ssl.endpoint.identification.algorithm": "https",
                "ssl.client.auth": "none",
            })
        _write_private(node.config_file, _properties(settings))


def main(argv: list[str] | None = None) -> int:
    parser = command_line("kafka", "Kafka local (KRaft) para a demonstração e os testes.",
                          ".kafka", "diretório dos dados, configuração e log")
    parser.add_argument("--port", type=int, default=int(os.environ.get("KAFKA_PORT") or 9092),
                        help="porta do (primeiro) broker (padrão: $KAFKA_PORT ou 9092)")
    parser.add_argument("--security", choices=SECURITY_SETTINGS,
                        default=os.environ.get("KAFKA_SECURITY") or "plaintext",
                        help="plaintext (padrão) ou sasl_ssl (SCRAM-SHA-512 e TLS)")
    parser.add_argument("--brokers", type=int, default=int(os.environ.get("KAFKA_BROKERS") or 1),
                        help="número de brokers, em portas consecutivas (padrão: 1)")
    args = parser.parse_args(argv)
    return run_action(lambda: _act(args))


def _act(args: argparse.Namespace) -> int:
    # brokers on port, port+1, ...; their controllers right after them, or on other
    # free ports when those are taken (clients never see the controllers)
    controller_port = args.port + args.brokers
    kafka = LocalKafka(args.dir.resolve(), port=args.port, controller_port=controller_port,
                       security=args.security.lower(), brokers=args.brokers)
    if (args.acao == "up" and not kafka.pids()
            and not ports_free(kafka.host, range(controller_port, controller_port + args.brokers))):
        kafka = LocalKafka(args.dir.resolve(), port=args.port,
                           controller_port=free_port_run(args.brokers, kafka.host),
                           security=args.security.lower(), brokers=args.brokers)
    if args.acao == "up":
        kafka.up()
    elif args.acao == "down":
        log.info("Kafka local parado." if kafka.down()
                 else "Nenhum Kafka local iniciado por este projeto está rodando.")
    else:
        pids = kafka.pids()
        # the file the last `up` wrote says how that Kafka takes clients
        config = (load_client_config(kafka.client_properties)
                  if kafka.client_properties.exists() else PLAINTEXT)
        answers = broker_answers(kafka.bootstrap_servers, client_config=config)
        log.info("Kafka em %s: %s%s.", kafka.bootstrap_servers,
                 "respondendo" if answers else "não responde",
                 f" ({describe_pids(pids)})" if pids else "")
        return 0 if answers else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
