package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procStat is the part of /proc/<pid>/stat the harness needs.
type procStat struct {
	PID, PPID, PGRP int
	Comm            string
	State           byte   // R, S, D, Z (zombie), ...
	UTime, STime    uint64 // CPU time in clock ticks, all threads of the process
}

// parseProcStat parses one /proc/<pid>/stat line (see proc(5)). comm, the
// second field, is parenthesised and may itself contain spaces and
// parentheses, so fields are counted from the last ')' rather than split
// from the start.
func parseProcStat(line string) (procStat, error) {
	var s procStat
	open := strings.IndexByte(line, '(')
	closing := strings.LastIndexByte(line, ')')
	if open < 0 || closing < open {
		return s, fmt.Errorf("malformed stat line %q", line)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return s, fmt.Errorf("stat pid: %w", err)
	}
	s.PID, s.Comm = pid, line[open+1:closing]
	// After comm: state(3) ppid(4) pgrp(5) ... utime(14) stime(15);
	// rest[0] is field 3.
	rest := strings.Fields(line[closing+1:])
	const fieldBase = 3
	const stateField, ppidField, pgrpField, utimeField, stimeField = 3, 4, 5, 14, 15
	if len(rest) <= stimeField-fieldBase {
		return s, fmt.Errorf("stat line for pid %d has only %d fields after comm", pid, len(rest))
	}
	s.State = rest[stateField-fieldBase][0]
	if s.PPID, err = strconv.Atoi(rest[ppidField-fieldBase]); err != nil {
		return s, fmt.Errorf("stat ppid: %w", err)
	}
	if s.PGRP, err = strconv.Atoi(rest[pgrpField-fieldBase]); err != nil {
		return s, fmt.Errorf("stat pgrp: %w", err)
	}
	if s.UTime, err = strconv.ParseUint(rest[utimeField-fieldBase], 10, 64); err != nil {
		return s, fmt.Errorf("stat utime: %w", err)
	}
	if s.STime, err = strconv.ParseUint(rest[stimeField-fieldBase], 10, 64); err != nil {
		return s, fmt.Errorf("stat stime: %w", err)
	}
	return s, nil
}

// readAllProcStats reads the stat of every process. Processes that exit
// between the directory listing and the read are skipped, not errors.
func readAllProcStats() ([]procStat, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	var all []procStat
	for _, path := range dirs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s, err := parseProcStat(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		all = append(all, s)
	}
	return all, nil
}

// treeTicks sums utime+stime over root and all its descendants in all. For
// nginx that is the master and its worker; for Strait, its one process.
// Summing the tree rather than naming processes keeps the two proxies
// measured by the same rule.
func treeTicks(root int, all []procStat) (uint64, bool) {
	children := make(map[int][]int)
	byPID := make(map[int]procStat, len(all))
	for _, s := range all {
		children[s.PPID] = append(children[s.PPID], s.PID)
		byPID[s.PID] = s
	}
	if _, ok := byPID[root]; !ok {
		return 0, false
	}
	var total uint64
	stack := []int{root}
	seen := map[int]bool{}
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pid] {
			continue
		}
		seen[pid] = true
		s := byPID[pid]
		total += s.UTime + s.STime
		stack = append(stack, children[pid]...)
	}
	return total, true
}

// processTreeTicks is the CPU time, in clock ticks, used so far by the
// process tree rooted at pid.
func processTreeTicks(pid int) (uint64, error) {
	all, err := readAllProcStats()
	if err != nil {
		return 0, err
	}
	t, ok := treeTicks(pid, all)
	if !ok {
		return 0, fmt.Errorf("process %d is gone", pid)
	}
	return t, nil
}

// clockTicks returns CLK_TCK, the unit of utime and stime, from getconf: Go
// has no sysconf, and assuming 100 would silently skew every result on a
// kernel configured otherwise.
func clockTicks(ctx context.Context, getconf string) (int, error) {
	out, err := runOutput(ctx, "", getconf, "CLK_TCK")
	if err != nil {
		return 0, err
	}
	return parseClockTicks(out)
}

// parseClockTicks parses getconf CLK_TCK's output.
func parseClockTicks(out string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return 0, fmt.Errorf("getconf CLK_TCK printed %q: %w", strings.TrimSpace(out), err)
	}
	if n <= 0 {
		return 0, errors.New("getconf CLK_TCK is not positive")
	}
	return n, nil
}
