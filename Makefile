.PHONY: build test bench demo

# build writes the binary to bin/strait.
build:
	go build -o bin/strait ./cmd/strait

# test runs the vet checks and every test, as CI does.
test:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed on:"; gofmt -l .; exit 1; }
	go vet ./...
	go test -count=1 ./...

# demo serves examples/quickstart with its echo backends on loopback.
demo:
	go run ./cmd/strait demo

# bench compares Strait with nginx on this machine and rewrites docs/benchmarks.md
# (installs nginx and wrk with apt-get if missing; see bench/main.go).
bench:
	go run ./bench -out docs/benchmarks.md
