# vendas-ecommerce: `make demo` to see it run, `make test` to check it. Both set up everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KAFKA_PORT ?= 9092
BOOTSTRAP := localhost:$(KAFKA_PORT)
RATE ?= 200
export PYSPARK_PYTHON := $(abspath $(PY))
export PYSPARK_DRIVER_PYTHON := $(abspath $(PY))

.PHONY: help venv demo test kafka-up kafka-down kafka-status bench-producer bench-consumer bench-latency bench-scaling clean

help:
	@echo "make demo          Kafka local + produtor ($(RATE) pedidos/s) + consumidor; Ctrl-C para parar"
	@echo "make test          todos os testes (unidade e integração com Kafka real)"
	@echo "make kafka-up      inicia o Kafka local em $(BOOTSTRAP) (make kafka-down para parar)"
	@echo "make bench-producer | bench-consumer | bench-latency | bench-scaling   benchmarks (resultados em bench/results/)"
	@echo "                    BENCH_ARGS=\"--quick\" (ou --orders N, --repeat N...) passa opções ao benchmark"

# The venv is rebuilt only when the pinned requirements change.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "É preciso Python 3.10 ou mais novo (PYTHON=... make).")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

kafka-up: venv
	@$(PY) -m vendas.local_kafka up --port $(KAFKA_PORT)

kafka-down: venv
	@$(PY) -m vendas.local_kafka down --port $(KAFKA_PORT)

kafka-status: venv
	@$(PY) -m vendas.local_kafka status --port $(KAFKA_PORT)

demo: kafka-up
	@$(PY) -m vendas.demo --bootstrap-servers $(BOOTSTRAP) --rate $(RATE)

# ruff first: a lint finding fails the run before the slow tests start.
test: venv
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

bench-producer: kafka-up
	$(PY) -m bench.producer --bootstrap-servers $(BOOTSTRAP) $(BENCH_ARGS)

bench-consumer: kafka-up
	$(PY) -m bench.consumer --bootstrap-servers $(BOOTSTRAP) $(BENCH_ARGS)

bench-latency: kafka-up
	$(PY) -m bench.latency --bootstrap-servers $(BOOTSTRAP) $(BENCH_ARGS)

bench-scaling: kafka-up
	$(PY) -m bench.scaling --bootstrap-servers $(BOOTSTRAP) $(BENCH_ARGS)

clean:
	rm -rf .checkpoints spark-warehouse metastore_db derby.log .pytest_cache bench/results bench/.venv-originais
