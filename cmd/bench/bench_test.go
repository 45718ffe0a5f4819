package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// requireWrk skips the test when wrk is missing, unless E2E_REQUIRED is
// set, as ./scripts/test does, and then fails it.
func requireWrk(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("wrk"); err != nil {
		if os.Getenv("E2E_REQUIRED") == "" {
			t.Skip("wrk is not installed, so the benchmark cannot run; " +
				"install it with apt-get install wrk, as ./scripts/test does")
		}
		t.Fatalf("wrk is not installed and E2E_REQUIRED is set: %v", err)
	}
}

var (
	buildOnce   sync.Once
	builtBinary string
	buildErr    error
)

// serverBinary builds the server once for all the tests of this package.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "launchgate-bench-test-")
		if err != nil {
			buildErr = err
			return
		}
		builtBinary, buildErr = buildServer(t.Context(), dir)
	})
	if buildErr != nil {
		t.Fatalf("build the server: %v", buildErr)
	}
	return builtBinary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBinary != "" {
		os.RemoveAll(filepath.Dir(builtBinary))
	}
	os.Exit(code)
}

// TestBenchmarkSmoke runs the whole benchmark with one-second cells, so
// that the command keeps working. It checks the report's shape, not its
// figures.
func TestBenchmarkSmoke(t *testing.T) {
	requireWrk(t)
	args := []string{
		"-app", serverBinary(t),
		"-cells", "0s/1,20ms/4",
		"-duration", "1s", "-runs", "1", "-warmup", "1s",
		"-signin-duration", "1s", "-signin-workers", "2",
		"-rss-warmup", "20", "-rss-launches", "100", "-rss-workers", "4",
	}
	opts, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(%q) = %v", args, err)
	}
	var progress bytes.Buffer
	report, err := benchmark(t.Context(), opts, &progress)
	if err != nil {
		t.Fatalf("benchmark() = %v\nprogress:\n%s", err, progress.String())
	}

	if len(report.Groups) != 2 {
		t.Fatalf("report has %d latency groups, want 2", len(report.Groups))
	}
	for _, group := range report.Groups {
		if group.RSSBefore <= 0 || group.RSSAfter <= 0 {
			t.Errorf("group %v RSS before %d after %d, want both positive",
				group.Latency, group.RSSBefore, group.RSSAfter)
		}
		for _, c := range group.Cells {
			checkCell(t, c)
		}
	}
	checkSignIns(t, report.SignIn)
	checkMemory(t, report.Memory)

	var text bytes.Buffer
	printReport(&text, report)
	for _, want := range []string{"| added latency | connections | launches/s |", "Memory: RSS"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("printed report lacks %q:\n%s", want, text.String())
		}
	}
	if _, err := json.Marshal(report); err != nil {
		t.Errorf("json.Marshal(report) = %v", err)
	}
}

func checkCell(t *testing.T, c CellResult) {
	t.Helper()
	med := c.Median
	if len(c.Runs) != 1 {
		t.Errorf("cell %v has %d runs, want 1", c.cell, len(c.Runs))
	}
	if med.Launches <= 0 || med.LaunchesPerSecond <= 0 {
		t.Errorf("cell %v: %d launches, %.1f/s; want some", c.cell,
			med.Launches, med.LaunchesPerSecond)
	}
	if c.Non200 != 0 || c.SocketErrors != 0 {
		t.Errorf("cell %v: %d responses not 200 (first %d), %d socket errors; want none",
			c.cell, c.Non200, med.FirstNon200, c.SocketErrors)
	}
	if med.P50 <= 0 || med.P99 < med.P50 {
		t.Errorf("cell %v: p50 %v p99 %v, want 0 < p50 <= p99", c.cell, med.P50, med.P99)
	}
	if med.PureWebCallsPerLaunch <= 0 || med.CPUPerLaunch < 0 {
		t.Errorf("cell %v: %.2f PureWeb calls and %v CPU per launch, want calls counted",
			c.cell, med.PureWebCallsPerLaunch, med.CPUPerLaunch)
	}
}

func checkSignIns(t *testing.T, s *SignInResult) {
	t.Helper()
	if s == nil {
		t.Fatal("report has no sign-in result")
	}
	if s.SignIns <= 0 || s.Failures != 0 {
		t.Errorf("sign-ins: %d done, %d failed (%s); want some and no failure",
			s.SignIns, s.Failures, s.FirstError)
	}
}

func checkMemory(t *testing.T, m *MemoryResult) {
	t.Helper()
	if m == nil {
		t.Fatal("report has no memory result")
	}
	if m.Before <= 0 || m.After <= 0 || m.Non200 != 0 || m.Failed != 0 {
		t.Errorf("memory check = %+v, want RSS readings and no failed launch", *m)
	}
}

// TestWrkCountsRedirectAsFailure loads /launch without a session, which
// redirects to sign-in, and checks that every response counts as not 200.
func TestWrkCountsRedirectAsFailure(t *testing.T) {
	requireWrk(t)
	s, err := startStack(t.Context(), serverBinary(t), 0, nil)
	if err != nil {
		t.Fatalf("startStack() = %v", err)
	}
	t.Cleanup(func() { s.close() })
	load, err := newWrk(t.TempDir(), 1)
	if err != nil {
		t.Fatalf("newWrk() = %v", err)
	}

	result, _, err := load.run(t.Context(), s.app.baseURL+"/launch", "x=y", 1, time.Second)
	if err != nil {
		t.Fatalf("wrk run = %v", err)
	}
	if result.Requests == 0 || result.Non200 != result.Requests {
		t.Errorf("wrk without a session: %d requests, %d not 200; want all not 200",
			result.Requests, result.Non200)
	}
	if result.FirstNon200 != 302 {
		t.Errorf("first status other than 200 = %d, want 302", result.FirstNon200)
	}
}

func TestParseCells(t *testing.T) {
	got, err := parseCells(" 0s/1, 20ms/32 ,")
	if err != nil {
		t.Fatalf("parseCells() = %v", err)
	}
	want := []cell{{0, 1}, {20 * time.Millisecond, 32}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseCells() mismatch (-want +got):\n%s", diff)
	}

	for _, bad := range []string{"20ms", "20ms/0", "x/2", "-1ms/2", "20ms/two"} {
		if _, err := parseCells(bad); err == nil {
			t.Errorf("parseCells(%q) = nil error, want one", bad)
		}
	}
}

func TestParseFlagsRejects(t *testing.T) {
	tests := [][]string{
		{"-duration", "1500ms"},
		{"-duration", "0s"},
		{"-runs", "0"},
		{"-warmup", "500ms"},
		{"-signin-workers", "0"},
		{"-rss-launches", "-1"},
		{"extra"},
	}
	for _, args := range tests {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) = nil error, want one", args)
		}
	}
}

func TestParseWrkOutput(t *testing.T) {
	output := "Running 1s test @ http://127.0.0.1:1/launch\n" +
		"  1 threads and 1 connections\n" +
		`{"requests":10,"durationMicros":1000000,"non200":2,"firstNon200Status":302,` +
		`"connectErrors":0,"readErrors":1,"writeErrors":0,"timeoutErrors":0,` +
		`"p50Micros":700,"p99Micros":900}` + "\n"

	got, err := parseWrkOutput([]byte(output))
	if err != nil {
		t.Fatalf("parseWrkOutput() = %v", err)
	}
	want := wrkResult{
		Requests: 10, DurationMicros: 1000000, Non200: 2, FirstNon200: 302,
		ReadErrors: 1, P50Micros: 700, P99Micros: 900,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseWrkOutput() mismatch (-want +got):\n%s", diff)
	}
	if _, err := parseWrkOutput([]byte("Running 1s test\n")); err == nil {
		t.Error("parseWrkOutput() without a result line = nil error, want one")
	}
}

func TestMedianAndPercentile(t *testing.T) {
	runs := []RunResult{{Launches: 30}, {Launches: 10}, {Launches: 20}, {Launches: 40}}
	if got := median(runs, func(r RunResult) int64 { return r.Launches }); got != 20 {
		t.Errorf("median of 10, 20, 30, 40 = %d, want the lower middle 20", got)
	}

	var durations []time.Duration
	for i := 100; i >= 1; i-- {
		durations = append(durations, time.Duration(i)*time.Millisecond)
	}
	if got := percentile(durations, 50); got != 50*time.Millisecond {
		t.Errorf("p50 of 1..100 ms = %v, want 50ms", got)
	}
	if got := percentile(durations, 99); got != 99*time.Millisecond {
		t.Errorf("p99 of 1..100 ms = %v, want 99ms", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %v, want 0", got)
	}
}

func TestProcessReadings(t *testing.T) {
	pid := os.Getpid()
	if rss, err := processRSS(pid); err != nil || rss <= 0 {
		t.Errorf("processRSS(self) = %d, %v; want a positive size", rss, err)
	}
	if _, err := processCPU(pid); err != nil {
		t.Errorf("processCPU(self) = %v, want no error", err)
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("processCPU(-1) = nil error, want one")
	}
}
