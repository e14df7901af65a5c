package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"time"
)

// machineInfo describes where and with what a report was measured, since
// numbers from different CPUs, kernels or nginx builds do not compare.
type machineInfo struct {
	cpuModel  string
	cpus      int
	kernel    string
	nginx     string
	haproxy   string
	wrk       string
	h2load    string
	goVersion string
	strait    string // git revision of the checkout measured
	date      time.Time
}

// collectMachineInfo gathers machineInfo. It never fails: a field it cannot
// read says so, rather than costing the report the run's results.
func collectMachineInfo(ctx context.Context, tools toolPaths, root string, o options) machineInfo {
	info := machineInfo{date: time.Now(), cpuModel: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		info.cpuModel, info.cpus = parseCPUInfo(string(b))
	}
	info.kernel = firstLine(ctx, "", "uname", "-r")
	// nginx -v prints to stderr; wrk -v prints its version, then its usage,
	// and exits 1. Only the first line of each matters.
	info.nginx = strings.TrimPrefix(firstLine(ctx, "", tools.nginx, "-v"), "nginx version: ")
	info.wrk, _, _ = strings.Cut(firstLine(ctx, "", tools.wrk, "-v"), " Copyright")
	// "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/"
	info.haproxy, _, _ = strings.Cut(strings.TrimPrefix(firstLine(ctx, "", tools.haproxy, "-v"), "HAProxy version "), " - ")
	info.h2load = firstLine(ctx, "", tools.h2load, "--version")
	info.goVersion = firstLine(ctx, "", tools.goBin, "version")
	switch {
	case !slices.Contains(o.proxies, "strait"):
		info.strait = "not measured"
	case o.straitBin != "":
		info.strait = "prebuilt binary " + o.straitBin
	default:
		info.strait = straitRevision(ctx, root)
	}
	return info
}

// firstLine runs a command and returns the first line of its combined
// output, whatever its exit status, or "unknown" when it printed nothing.
func firstLine(ctx context.Context, dir string, argv ...string) string {
	out, _ := runOutput(ctx, dir, argv...)
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return "unknown"
	}
	return line
}

// straitRevision names the measured checkout: its commit, marked dirty when
// the work tree has changes, since those are what was actually built.
func straitRevision(ctx context.Context, root string) string {
	rev, err := runOutput(ctx, root, "git", "rev-parse", "--short", "HEAD")
	if err != nil {
		return "uncommitted work tree (no commit yet)"
	}
	rev = strings.TrimSpace(rev)
	if st, err := runOutput(ctx, root, "git", "status", "--porcelain"); err == nil && strings.TrimSpace(st) != "" {
		rev += " with uncommitted changes"
	}
	return "commit " + rev
}

// parseCPUInfo returns the first "model name" in /proc/cpuinfo and the
// number of "processor" entries (logical CPUs).
func parseCPUInfo(cpuinfo string) (model string, cpus int) {
	model = "unknown"
	for _, line := range strings.Split(cpuinfo, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "processor":
			cpus++
		case "model name":
			if model == "unknown" {
				model = strings.TrimSpace(val)
			}
		}
	}
	return model, cpus
}
