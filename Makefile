# breachnotice — the two commands a new user needs are `make run` and `make test`.
# Both start a local PostgreSQL and Redis first if none answers (scripts/services.sh installs
# them with apt-get when missing).

PGPORT ?= 5432
export DATABASE_URL ?= postgres://postgres@127.0.0.1:$(PGPORT)/breachnotice?sslmode=disable
# Tests create (and drop) a database of their own per package through this server.
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:$(PGPORT)/postgres?sslmode=disable
export REDIS_URL ?= redis://127.0.0.1:6379/0

GO ?= go
BIN := bin/breachnotice

.PHONY: all build run test bench fuzz vet services clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/breachnotice

services:
	bash scripts/services.sh breachnotice

# Migrate, load the demo campaign, print an operator token and serve on http://127.0.0.1:8080.
run: services build
	./$(BIN) run

# Vet, then every test (fuzz seed corpora included) against the real PostgreSQL; the web
# console's browser test drives Debian's chromium (scripts/chromium.sh installs it).
test: services
	bash scripts/chromium.sh
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

# Throughput figures against the raw limits measured in the same run (see cmd/bnbench):
# import, then send (plain, RSA DKIM, first notice of a 1M campaign). Pass flags with
# BENCHFLAGS, e.g. `make bench BENCHFLAGS="-skip-import -send-recipients 500000"`.
bench: services build
	$(GO) run ./cmd/bnbench $(BENCHFLAGS)

# Fuzz the CSV row reader for a while (the seed corpus alone runs in `make test`).
fuzz:
	$(GO) test ./internal/importer -run '^$$' -fuzz FuzzReadRows -fuzztime 60s

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
