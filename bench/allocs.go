package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// mallocsMetric is the Prometheus Go collector's count of heap objects
// allocated since the process started.
const mallocsMetric = "go_memstats_mallocs_total"

// parseMallocs finds mallocsMetric in a Prometheus text exposition.
func parseMallocs(text string) (float64, error) {
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, mallocsMetric)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		fields := strings.Fields(rest)
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, fmt.Errorf("%s value %q: %w", mallocsMetric, fields[0], err)
		}
		return v, nil
	}
	return 0, fmt.Errorf("no %s sample in the metrics", mallocsMetric)
}

// scrapeMallocs reads a Go proxy's allocation count from its /metrics. The
// scrape itself allocates inside the proxy; read before the CPU counters at
// the start and after them at the end, it adds a few thousand objects to a
// run of hundreds of thousands of requests and no CPU at all.
func scrapeMallocs(ctx context.Context, url string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	// A fresh Transport: no environment proxy, no idle connection left open.
	resp, err := (&http.Transport{DisableKeepAlives: true}).RoundTrip(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return parseMallocs(string(body))
}
