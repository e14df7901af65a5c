package main

import (
	"os"
	"testing"
)

// An nginx worker's stat line as the kernel prints it (from a bench run).
const nginxWorkerStat = "13282 (nginx) S 13281 13281 2022 0 -1 4194624 1849 0 0 0 52 144 0 0 20 0 1 0 39331 12345 678 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"

func TestParseProcStat(t *testing.T) {
	got, err := parseProcStat(nginxWorkerStat)
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{PID: 13282, PPID: 13281, PGRP: 13281, Comm: "nginx", State: 'S', UTime: 52, STime: 144}
	if got != want {
		t.Errorf("parseProcStat = %+v, want %+v", got, want)
	}
}

func TestParseProcStatHostileComm(t *testing.T) {
	// comm is up to 15 bytes of anything, parentheses and spaces included.
	line := "42 (a) b (c) d) R 1 42 42 0 -1 0 0 0 0 0 7 9 0 0 20 0 1 0 100 0 0"
	got, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if got.Comm != "a) b (c) d" || got.PPID != 1 || got.UTime != 7 || got.STime != 9 || got.State != 'R' {
		t.Errorf("parseProcStat = %+v", got)
	}
}

func TestParseProcStatErrors(t *testing.T) {
	for _, line := range []string{"", "12 nginx S 1", "12 (nginx) S 1 2 3", "x (nginx) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0"} {
		if _, err := parseProcStat(line); err == nil {
			t.Errorf("parseProcStat(%q) succeeded", line)
		}
	}
}

func TestParseOwnProcStat(t *testing.T) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	s, err := parseProcStat(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if s.PID != os.Getpid() || s.PPID != os.Getppid() {
		t.Errorf("parsed pid %d ppid %d, want %d %d", s.PID, s.PPID, os.Getpid(), os.Getppid())
	}
}

func TestTreeTicks(t *testing.T) {
	all := []procStat{
		{PID: 1, PPID: 0, UTime: 1000, STime: 1000},
		{PID: 10, PPID: 1, UTime: 1, STime: 2},     // nginx master
		{PID: 11, PPID: 10, UTime: 30, STime: 40},  // its worker
		{PID: 12, PPID: 10, UTime: 5, STime: 0},    // cache manager, say
		{PID: 13, PPID: 12, UTime: 100, STime: 0},  // grandchild
		{PID: 20, PPID: 1, UTime: 500, STime: 500}, // unrelated
	}
	if got, ok := treeTicks(10, all); !ok || got != 3+70+5+100 {
		t.Errorf("treeTicks(10) = %d, %v; want 178", got, ok)
	}
	if got, ok := treeTicks(20, all); !ok || got != 1000 {
		t.Errorf("treeTicks(20) = %d, %v; want 1000", got, ok)
	}
	if _, ok := treeTicks(99, all); ok {
		t.Error("treeTicks of a missing pid succeeded")
	}
}

func TestParseClockTicks(t *testing.T) {
	if n, err := parseClockTicks("100\n"); err != nil || n != 100 {
		t.Errorf("parseClockTicks = %d, %v", n, err)
	}
	for _, in := range []string{"", "abc", "0", "-5"} {
		if _, err := parseClockTicks(in); err == nil {
			t.Errorf("parseClockTicks(%q) succeeded", in)
		}
	}
}
