.PHONY: build test bench demo

# build writes the binary to bin/strait.
build:
	go build -o bin/strait ./cmd/strait

# test runs the gofmt check, go vet and every test, as CI does.
test:
	./scripts/test.sh

# demo serves examples/quickstart with its echo backends on loopback.
demo:
	go run ./cmd/strait demo

# bench compares Strait with nginx on this machine and rewrites docs/benchmarks.md
# (installs nginx and wrk with apt-get if missing; see bench/main.go).
bench:
	go run ./bench -out docs/benchmarks.md
