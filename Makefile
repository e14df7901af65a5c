.PHONY: build test bench bench-scale demo conformance

# build writes the binary to bin/strait.
build:
	go build -o bin/strait ./cmd/strait

# test runs the gofmt check, go vet and every test, as CI does.
test:
	./scripts/test.sh

# demo serves examples/quickstart with its echo backends on loopback.
demo:
	go run ./cmd/strait demo

# bench compares Strait with nginx and HAProxy on this machine and rewrites
# docs/benchmarks.md (installs nginx, haproxy, wrk and h2load with apt-get if
# missing; see bench/main.go). BENCH_FLAGS picks a subset or other durations,
# e.g. make bench BENCH_FLAGS='-scenarios h1-c16-*,ws-* -duration 10s'.
BENCH_FLAGS ?=
bench:
	go run ./bench $(BENCH_FLAGS) -out docs/benchmarks.md

# bench-scale measures the control plane at 1,000 to 10,000 Ingresses against
# a real API server (propagation, start-up, memory, build times) and rewrites
# docs/scale.md. BENCH_SCALE_FLAGS changes the sizes, e.g.
# make bench-scale BENCH_SCALE_FLAGS='-propagate 1000 -churn 2000'.
BENCH_SCALE_FLAGS ?=
bench-scale:
	go test ./bench/scale -run '^$$' -bench . -benchtime 1x -timeout 90m -args -out $(CURDIR)/docs/scale.md $(BENCH_SCALE_FLAGS)

# conformance builds what the Gateway API conformance harness runs
# (kube-controller-manager and echo-basic besides etcd and kube-apiserver,
# cached in .cache/kube/bin), vets and tests test/conformance (a module of
# its own) and runs the tests named by CONFORMANCE_TESTS in a private
# network namespace; see docs/conformance.md.
#
# CONFORMANCE_TESTS is a go test -run pattern. TestHarness checks the
# cluster the suite runs on and needs no Gateway support from Strait;
# TestGatewayAPIConformance runs the suite itself (profiles GATEWAY-HTTP
# and GATEWAY-GRPC) and rewrites CONFORMANCE_REPORT. To check the harness
# alone: make conformance CONFORMANCE_TESTS=TestHarness
# CONFORMANCE_FLAGS passes flags to the suite, e.g.
#   CONFORMANCE_FLAGS='-run-test=HTTPRouteSimpleSameNamespace'
CONFORMANCE_TESTS ?= TestHarness|TestWriteSummary|TestGatewayAPIConformance
CONFORMANCE_REPORT ?= $(CURDIR)/docs/conformance/gateway-api-report.yaml
CONFORMANCE_FLAGS ?=
conformance:
	bash scripts/build-kube.sh conformance
	cd test/conformance && go vet ./... && go test -count=1 ./kubesim
	cd test/conformance && go test -count=1 -timeout 60m -v -run '$(CONFORMANCE_TESTS)' . \
		-args -report-output=$(CONFORMANCE_REPORT) $(CONFORMANCE_FLAGS)
