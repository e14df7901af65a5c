package scale

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/straitgw/strait/internal/kubetest"
)

// sizeResult is what one Ingress count measured.
type sizeResult struct {
	ingresses, routes    int
	readyIn, servingIn   time.Duration
	rss, heap            float64
	fullBuild, epBuild   time.Duration
	fullCount, epChanges int
}

// propResult is one propagation run.
type propResult struct {
	name  string
	lags  []time.Duration
	churn int64 // background updates made during the run
}

// BenchmarkControlPlane runs every measurement once and prints the report.
func BenchmarkControlPlane(b *testing.B) {
	sizes, err := parseSizes(*sizesFlag)
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		startBackend(b)
		var res []sizeResult
		var base sizeResult
		var props []propResult
		b.Run("memory", func(b *testing.B) { base, res = measureSizes(b, sizes) })
		b.Run("propagation", func(b *testing.B) { props = measurePropagation(b) })
		report := render(base, res, props)
		fmt.Println(report)
		if *outPath != "" {
			if err := os.WriteFile(*outPath, []byte(report), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad size %q", f)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// measureSizes grows one cluster to each size in turn and starts a fresh
// Strait on it each time.
func measureSizes(b *testing.B, sizes []int) (sizeResult, []sizeResult) {
	c := kubetest.Start(b)
	setUp(b, c.Client)
	base := measureOne(b, c, 0)
	var out []sizeResult
	have := 0
	for _, n := range sizes {
		t0 := time.Now()
		createMany(b, c.Client, "bulk", have, n, *pathsFlag)
		b.Logf("created Ingresses %d..%d in %v", have, n, time.Since(t0).Round(time.Millisecond))
		have = n
		out = append(out, measureOne(b, c, n))
	}
	return base, out
}

// measureOne starts Strait with n Ingresses present and measures it.
func measureOne(b *testing.B, c *kubetest.Cluster, n int) sizeResult {
	r := sizeResult{ingresses: n, routes: n * *pathsFlag}
	s := startStrait(b, c.Kubeconfig)
	r.readyIn = s.readyIn
	if n > 0 {
		last := n - 1
		at, ok := s.waitServes(host(last%namespaces, fmt.Sprintf("bulk-%d", last)), "/p0", time.Minute)
		if !ok {
			b.Fatalf("the last of %d Ingresses does not serve", n)
		}
		r.servingIn = at.Sub(s.started)
	}
	// Let start-up garbage go before reading memory, as a long-running
	// process would have.
	time.Sleep(3 * time.Second)
	m := s.metrics()
	// The process collector's figure: /proc here belongs to another PID
	// namespace.
	r.rss = m["process_resident_memory_bytes"]
	r.heap = m["go_memstats_heap_inuse_bytes"]
	if cnt := m[`strait_generation_build_seconds_count{kind="full"}`]; cnt > 0 {
		r.fullCount = int(cnt)
		r.fullBuild = time.Duration(m[`strait_generation_build_seconds_sum{kind="full"}`] / cnt * float64(time.Second))
	}
	// Endpoints-only changes: alternate one EndpointSlice between one and
	// two addresses.
	before := s.metrics()
	const changes = 20
	for i := range changes {
		ns := nsName(i % namespaces)
		es, err := c.Client.DiscoveryV1().EndpointSlices(ns).Get(context.Background(), svcName(0)+"-1", metav1.GetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(es.Endpoints) == 1 {
			extra := es.Endpoints[0]
			extra.Addresses = []string{"10.244.200.2"}
			es.Endpoints = append(es.Endpoints, extra)
		} else {
			es.Endpoints = es.Endpoints[:1]
		}
		if _, err := c.Client.DiscoveryV1().EndpointSlices(ns).Update(context.Background(), es, metav1.UpdateOptions{}); err != nil {
			b.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	after := s.metrics()
	key := `strait_generation_build_seconds_%s{kind="endpoints"}`
	if d := after[fmt.Sprintf(key, "count")] - before[fmt.Sprintf(key, "count")]; d > 0 {
		r.epChanges = int(d)
		r.epBuild = time.Duration((after[fmt.Sprintf(key, "sum")] - before[fmt.Sprintf(key, "sum")]) / d * float64(time.Second))
	}
	s.stop()
	b.Logf("%d Ingresses: ready in %v, RSS %.1f MiB, heap %.1f MiB, full build %v, endpoints change %v (%d of %d took the fast path)",
		n, r.readyIn.Round(time.Millisecond), r.rss/(1<<20), r.heap/(1<<20), r.fullBuild, r.epBuild, r.epChanges, changes)
	return r
}

// measurePropagation creates Ingresses one after another on a fresh
// cluster, then again while thousands of others churn.
func measurePropagation(b *testing.B) []propResult {
	c := kubetest.Start(b)
	setUp(b, c.Client)
	s := startStrait(b, c.Kubeconfig)
	quiet := propagate(b, c.Client, s, "quiet", *propN)
	quiet.name = fmt.Sprintf("%d Ingresses created one after another", *propN)

	t0 := time.Now()
	createMany(b, c.Client, "churn", 0, *churnN, *pathsFlag)
	b.Logf("created %d churn Ingresses in %v", *churnN, time.Since(t0).Round(time.Millisecond))
	var updates atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Two writers update the churn Ingresses' annotations round-robin,
	// each update a change Strait must translate.
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i += 2 {
				select {
				case <-stop:
					return
				default:
				}
				k := i % *churnN
				name := fmt.Sprintf("churn-%d", k)
				ns := nsName(k % namespaces)
				patch := fmt.Sprintf(`{"metadata":{"annotations":{"nginx.ingress.kubernetes.io/proxy-read-timeout":"%d"}}}`, 30+i%60)
				if _, err := c.Client.NetworkingV1().Ingresses(ns).Patch(context.Background(), name, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err == nil {
					updates.Add(1)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	busy := propagate(b, c.Client, s, "busy", *propN)
	close(stop)
	wg.Wait()
	busy.name = fmt.Sprintf("%d more while %d others churn", *propN, *churnN)
	busy.churn = updates.Load()
	return []propResult{quiet, busy}
}

// propagate creates n Ingresses one after another, each time waiting for
// its first 200.
func propagate(b *testing.B, c kubernetes.Interface, s *strait, prefix string, n int) propResult {
	var r propResult
	for i := range n {
		name := fmt.Sprintf("%s-%d", prefix, i)
		k := i % namespaces
		ing := ingress(k, name, *pathsFlag, nil)
		start := time.Now()
		if _, err := c.NetworkingV1().Ingresses(ing.Namespace).Create(context.Background(), ing, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		at, ok := s.waitServes(host(k, name), "/p0", 30*time.Second)
		if !ok {
			b.Fatalf("%s did not serve within 30 s", name)
		}
		r.lags = append(r.lags, at.Sub(start))
		if (i+1)%500 == 0 {
			b.Logf("%s: %d created; last 500: %s", prefix, i+1, summary(r.lags[i+1-500:]))
		}
	}
	return r
}

// summary gives mean, p50, p99 and max of ds.
func summary(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return fmt.Sprintf("mean %v, p50 %v, p99 %v, max %v", ms(sum/time.Duration(len(s))), ms(q(0.5)), ms(q(0.99)), ms(s[len(s)-1]))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// render writes the report in Markdown.
func render(base sizeResult, sizes []sizeResult, props []propResult) string {
	var w strings.Builder
	fmt.Fprintf(&w, "# Strait's control plane at scale\n\n")
	fmt.Fprintf(&w, "<!-- Generated by `make bench-scale`; rerun it rather than editing by hand. -->\n\n")
	fmt.Fprintf(&w, "Measured %s on %d CPUs (%s), against a real kube-apiserver and etcd on the same machine. ", time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(&w, "Every Ingress has one host and %d Prefix paths over 10 Services per namespace, in 20 namespaces.\n\n", *pathsFlag)
	fmt.Fprintf(&w, "Reproduce on a quiet machine: `make bench-scale%s`\n\n", nonDefaultFlags())
	fmt.Fprintf(&w, "## Propagation: Ingress created to first 200\n\n")
	fmt.Fprintf(&w, "| run | all | first 500 | last 500 | background updates |\n|---|---|---|---|---:|\n")
	for _, p := range props {
		first, last := p.lags, p.lags
		if len(p.lags) > 500 {
			first, last = p.lags[:500], p.lags[len(p.lags)-500:]
		}
		fmt.Fprintf(&w, "| %s | %s | %s | %s | %d |\n", p.name, summary(p.lags), summary(first), summary(last), p.churn)
	}
	fmt.Fprintf(&w, "\n## Start-up, memory and build times\n\n")
	fmt.Fprintf(&w, "Each row starts a fresh Strait with that many Ingresses present. Memory is read 3 s after the last Ingress serves; bytes per route are over the process with no Ingress (RSS %.1f MiB, heap %.1f MiB). A full build is translate plus compile of the whole model (the mean over the generations built so far); an endpoints change updates upstream sets in place.\n\n", base.rss/(1<<20), base.heap/(1<<20))
	fmt.Fprintf(&w, "| Ingresses | routes | start to ready | start to last Ingress serving | RSS | Go heap in use | RSS per route | full build | endpoints change |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range sizes {
		perRoute := (r.rss - base.rss) / float64(r.routes)
		fmt.Fprintf(&w, "| %d | %d | %s | %s | %.1f MiB | %.1f MiB | %.0f B | %s | %s |\n", r.ingresses, r.routes, ms(r.readyIn), ms(r.servingIn),
			r.rss/(1<<20), r.heap/(1<<20), perRoute, ms(r.fullBuild), fmt.Sprintf("%.2f ms", float64(r.epBuild)/float64(time.Millisecond)))
	}
	return w.String()
}

// nonDefaultFlags returns the make variable that repeats this run's
// settings, or "" when they are the defaults.
func nonDefaultFlags() string {
	var set []string
	flag.Visit(func(f *flag.Flag) {
		if isScaleFlag(f.Name) {
			set = append(set, "-"+f.Name+" "+f.Value.String())
		}
	})
	if len(set) == 0 {
		return ""
	}
	return " BENCH_SCALE_FLAGS='" + strings.Join(set, " ") + "'"
}

func isScaleFlag(name string) bool {
	switch name {
	case "sizes", "propagate", "churn", "paths":
		return true
	}
	return false
}
