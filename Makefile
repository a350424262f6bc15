# vendas-ecommerce: `make demo` to see it run, `make test` to check it. Both set up everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KAFKA_PORT ?= 9092
BOOTSTRAP := localhost:$(KAFKA_PORT)
# make kafka-up KAFKA_SECURITY=sasl_ssl (SCRAM + TLS, writes .kafka/cliente.properties) | KAFKA_BROKERS=3
KAFKA_SECURITY ?= plaintext
KAFKA_BROKERS ?= 1
KAFKA_FLAGS = --port $(KAFKA_PORT) --security $(KAFKA_SECURITY) --brokers $(KAFKA_BROKERS)
SPARK_MASTER_PORT ?= 7077
SPARK_WEBUI_PORT ?= 8080
RATE ?= 200
# Local PostgreSQL (make db-up) and the dashboard (make painel); both on 127.0.0.1 unless
# POSTGRES_HOST / PAINEL_HOST say otherwise.
POSTGRES_PORT ?= 5432
PAINEL_PORT ?= 8501
export PYSPARK_PYTHON := $(abspath $(PY))
export PYSPARK_DRIVER_PYTHON := $(abspath $(PY))

.PHONY: help venv jvm demo test test-unit kafka-up kafka-down kafka-status spark-up spark-down spark-status bench-producer bench-consumer bench-latency bench-scaling bench-escala clean

help:
	@echo "make demo          Kafka e PostgreSQL locais + produtor ($(RATE) pedidos/s) + consumidor + painel; Ctrl-C para parar"
	@echo "make test          todos os testes: unidade, Spark, integração e ponta a ponta (Kafka e PostgreSQL reais)"
	@echo "make test-unit     só os testes de unidade (sem JVM, Kafka nem PostgreSQL), em segundos"
	@echo "make kafka-up      inicia o Kafka local em $(BOOTSTRAP) (make kafka-down para parar)"
	@echo "                   KAFKA_SECURITY=sasl_ssl: SASL_SSL (SCRAM) e .kafka/cliente.properties; KAFKA_BROKERS=3: três brokers"
	@echo "make db-up         inicia o PostgreSQL local em 127.0.0.1:$(POSTGRES_PORT) e mostra a URL (make db-down para parar)"
	@echo "make painel        painel ao vivo em http://127.0.0.1:$(PAINEL_PORT) (VENDAS_BANCO, ou o PostgreSQL local)"
	@echo "make spark-up      cluster Spark standalone local (master + 2 workers; make spark-down para parar)"
	@echo "make bench-producer | bench-consumer | bench-latency | bench-scaling | bench-escala"
	@echo "                    benchmarks (resultados em bench/results/); bench-escala: custo por lote com"
	@echo "                    um milhão de produtos e um dia de ids no estado (sem Kafka; demorado no tamanho cheio)"
	@echo "                    BENCH_ARGS=\"--quick\" (ou --orders N, --repeat N...) passa opções ao benchmark"

# The venv is rebuilt only when the pinned requirements change.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "É preciso Python 3.10 ou mais novo (PYTHON=... make).")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

# The project's JVM classes (jvm/src/), compiled once against the installed pyspark's jars
# into the package: the consumer never compiles anything at a user's run.
JAR := vendas/spark/jars/vendas-jvm.jar
JAVA_SOURCES := $(wildcard jvm/src/vendas/*.java)
PYSPARK_JARS = $$($(PY) -c 'import pathlib, pyspark; print(pathlib.Path(pyspark.__file__).parent / "jars")')

jvm: $(JAR)

$(JAR): $(JAVA_SOURCES) $(VENV)/.installed
	@command -v javac >/dev/null 2>&1 || { echo "javac não encontrado: instale um JDK 17 ou mais novo (por exemplo, o pacote openjdk-17-jdk-headless)." >&2; exit 2; }
	@rm -rf jvm/build && mkdir -p jvm/build/classes $(dir $@)
	javac --release 17 -nowarn -d jvm/build/classes -cp "$(PYSPARK_JARS)/*" $(JAVA_SOURCES)
	jar --create --file $@ -C jvm/build/classes .

kafka-up: venv
	@$(PY) -m localdev.kafka up $(KAFKA_FLAGS)

kafka-down: venv
	@$(PY) -m localdev.kafka down $(KAFKA_FLAGS)

kafka-status: venv
	@$(PY) -m localdev.kafka status $(KAFKA_FLAGS)

spark-up: venv
	@$(PY) -m localdev.spark up --port $(SPARK_MASTER_PORT) --webui-port $(SPARK_WEBUI_PORT)

spark-down: venv
	@$(PY) -m localdev.spark down

spark-status: venv
	@$(PY) -m localdev.spark status --port $(SPARK_MASTER_PORT) --webui-port $(SPARK_WEBUI_PORT)

.PHONY: db-up db-down db-status painel

db-up: venv
	@$(PY) -m localdev.postgres up --port $(POSTGRES_PORT)

db-down: venv
	@$(PY) -m localdev.postgres down --port $(POSTGRES_PORT)

db-status: venv
	@$(PY) -m localdev.postgres status --port $(POSTGRES_PORT)

# The dashboard over $$VENDAS_BANCO, or over the local PostgreSQL (started if needed).
painel: venv
	@if [ -z "$$VENDAS_BANCO" ]; then \
		$(PY) -m localdev.postgres up --port $(POSTGRES_PORT) >/dev/null || exit 2; \
		VENDAS_BANCO="$$($(PY) -m localdev.postgres url --port $(POSTGRES_PORT))" || exit 2; \
		export VENDAS_BANCO; \
	fi; \
	$(PY) painel_vendas.py --porta $(PAINEL_PORT)

# With the totals in PostgreSQL ($$VENDAS_BANCO, or the local one, started if needed) and the
# dashboard on PAINEL_PORT.
demo: kafka-up $(JAR)
	@if [ -z "$$VENDAS_BANCO" ]; then \
		$(PY) -m localdev.postgres up --port $(POSTGRES_PORT) >/dev/null || exit 2; \
		VENDAS_BANCO="$$($(PY) -m localdev.postgres url --port $(POSTGRES_PORT))" || exit 2; \
		export VENDAS_BANCO; \
	fi; \
	$(PY) -m localdev.demo --kafka-config .kafka/cliente.properties --rate $(RATE) \
		--painel-porta $(PAINEL_PORT)

# ruff first: a lint finding fails the run before the slow tests start. The tiers run fastest
# first (tests/unit, tests/spark, tests/integration, tests/e2e).
test: venv $(JAR)
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

# The unit tier alone: pure Python, no JVM, Kafka or PostgreSQL.
test-unit: venv
	$(PY) -m ruff check .
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

bench-producer: kafka-up
	$(PY) -m bench.producer --bootstrap-servers $(BOOTSTRAP) $(BENCH_ARGS)

bench-consumer: kafka-up $(JAR)
	$(PY) -m bench.consumer --bootstrap-servers $(BOOTSTRAP) $(BENCH_ARGS)

bench-latency: kafka-up $(JAR)
	$(PY) -m bench.latency --bootstrap-servers $(BOOTSTRAP) $(BENCH_ARGS)

bench-scaling: kafka-up $(JAR)
	$(PY) -m bench.throughput --bootstrap-servers $(BOOTSTRAP) $(BENCH_ARGS)

# The consumer's own query fed by Spark's rate source: no Kafka needed.
bench-escala: $(JAR)
	$(PY) -m bench.scaling $(BENCH_ARGS)

clean:
	rm -rf .checkpoints spark-warehouse metastore_db derby.log .pytest_cache bench/results bench/.venv-originais
