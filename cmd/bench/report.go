package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Report is the result of a benchmark run. Durations are in nanoseconds in
// its JSON form, and memory sizes in bytes.
type Report struct {
	Machine  Machine       `json:"machine"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"` // of each wrk run
	Runs     int           `json:"runs"`
	Warmup   time.Duration `json:"warmup"`
	// ServerEnv lists the variables added to the server's environment.
	ServerEnv []string `json:"serverEnv,omitempty"`

	Groups []GroupResult `json:"groups"`
	SignIn *SignInResult `json:"signIn,omitempty"`
	Memory *MemoryResult `json:"memory,omitempty"`
}

// GroupResult holds the cells measured on one server process, all with the
// same added PureWeb latency.
type GroupResult struct {
	Latency   time.Duration `json:"latency"`
	RSSBefore int64         `json:"rssBefore"` // after the warm-up
	RSSAfter  int64         `json:"rssAfter"`  // after the last run
	Cells     []CellResult  `json:"cells"`
}

// CellResult holds every run of one cell and their medians.
type CellResult struct {
	cell
	Runs   []RunResult `json:"runs"`
	Median RunResult   `json:"median"` // each field's median over Runs

	// Non200 and SocketErrors add up every run, so that no failure hides
	// behind a median.
	Non200       int64 `json:"non200"`
	SocketErrors int64 `json:"socketErrors"`
}

// RunResult is one wrk run of GET /launch.
type RunResult struct {
	Launches          int64         `json:"launches"` // responses of every status
	LaunchesPerSecond float64       `json:"launchesPerSecond"`
	P50               time.Duration `json:"p50"`
	P99               time.Duration `json:"p99"`
	Non200            int64         `json:"non200"`
	FirstNon200       int           `json:"firstNon200Status,omitempty"`
	SocketErrors      int64         `json:"socketErrors"`

	// PureWebCallsPerLaunch counts every call the PureWeb emulator handled
	// during the run, and AdminTokenCallsPerLaunch the admin-token requests
	// among them, per response.
	PureWebCallsPerLaunch    float64 `json:"pureWebCallsPerLaunch"`
	AdminTokenCallsPerLaunch float64 `json:"adminTokenCallsPerLaunch"`

	// NewPureWebConnections counts the connections the server opened to
	// the PureWeb emulator during the run. Reused connections keep it near
	// zero after the warm-up.
	NewPureWebConnections int64 `json:"newPureWebConnections"`

	// CPUPerLaunch is the server's user and system CPU time during the run
	// divided by the responses. EmulatorCPUPerLaunch is the same for the
	// benchmark's own process, which runs the emulators, and
	// WrkCPUPerLaunch for wrk. On loopback, the kernel's work for a TCP
	// segment is mostly charged to the process that sends it.
	CPUPerLaunch         time.Duration `json:"cpuPerLaunch"`
	EmulatorCPUPerLaunch time.Duration `json:"emulatorCPUPerLaunch"`
	WrkCPUPerLaunch      time.Duration `json:"wrkCPUPerLaunch"`
}

// SignInResult is the sign-in measurement.
type SignInResult struct {
	Workers      int           `json:"workers"`
	Duration     time.Duration `json:"duration"`
	SignIns      int64         `json:"signIns"`
	Failures     int64         `json:"failures"`
	FirstError   string        `json:"firstError,omitempty"`
	PerSecond    float64       `json:"perSecond"`
	P50          time.Duration `json:"p50"`
	P99          time.Duration `json:"p99"`
	CPUPerSignIn time.Duration `json:"cpuPerSignIn"` // server CPU time

	// ServerAuth0ConnectionsPerSignIn is the connections the server opened
	// to the Auth0 emulator per sign-in: every connection the emulator
	// accepted, less those the benchmark's browsers opened.
	ServerAuth0ConnectionsPerSignIn float64 `json:"serverAuth0ConnectionsPerSignIn"`
}

// MemoryResult is the memory check: the server's resident set size after
// Warmup launches and after Launches more.
type MemoryResult struct {
	Warmup   int   `json:"warmup"`
	Launches int   `json:"launches"`
	Workers  int   `json:"workers"`
	Before   int64 `json:"before"`
	After    int64 `json:"after"`
	Non200   int64 `json:"non200"`
	Failed   int64 `json:"failed"`
}

// summarize computes the medians and totals of a cell's runs.
func summarize(c cell, runs []RunResult) CellResult {
	result := CellResult{cell: c, Runs: runs}
	for _, run := range runs {
		result.Non200 += run.Non200
		result.SocketErrors += run.SocketErrors
	}
	result.Median = RunResult{
		Launches:                 median(runs, func(r RunResult) int64 { return r.Launches }),
		LaunchesPerSecond:        median(runs, func(r RunResult) float64 { return r.LaunchesPerSecond }),
		P50:                      median(runs, func(r RunResult) time.Duration { return r.P50 }),
		P99:                      median(runs, func(r RunResult) time.Duration { return r.P99 }),
		Non200:                   median(runs, func(r RunResult) int64 { return r.Non200 }),
		SocketErrors:             median(runs, func(r RunResult) int64 { return r.SocketErrors }),
		PureWebCallsPerLaunch:    median(runs, func(r RunResult) float64 { return r.PureWebCallsPerLaunch }),
		AdminTokenCallsPerLaunch: median(runs, func(r RunResult) float64 { return r.AdminTokenCallsPerLaunch }),
		NewPureWebConnections: median(runs, func(r RunResult) int64 {
			return r.NewPureWebConnections
		}),
		CPUPerLaunch: median(runs, func(r RunResult) time.Duration { return r.CPUPerLaunch }),
		EmulatorCPUPerLaunch: median(runs, func(r RunResult) time.Duration {
			return r.EmulatorCPUPerLaunch
		}),
		WrkCPUPerLaunch: median(runs, func(r RunResult) time.Duration { return r.WrkCPUPerLaunch }),
	}
	return result
}

// median returns the median of field over runs: the middle value, or the
// lower of the two middle values for an even count.
func median[T int64 | float64 | time.Duration](runs []RunResult, field func(RunResult) T) T {
	if len(runs) == 0 {
		return 0
	}
	values := make([]T, len(runs))
	for i, run := range runs {
		values[i] = field(run)
	}
	slices.Sort(values)
	return values[(len(values)-1)/2]
}

// printReport writes the report as Markdown tables.
func printReport(w io.Writer, r *Report) {
	m := r.Machine
	fmt.Fprintf(w, "\nMachine: %d CPUs, %s, %d MiB, %s, Linux %s, %s\n",
		m.CPUs, m.CPUModel, m.MemoryMiB, m.GoVersion, m.Kernel, m.Wrk)
	fmt.Fprintf(w, "Each cell: %d run(s) of %v after a %v warm-up; medians.\n",
		r.Runs, r.Duration, r.Warmup)
	if len(r.ServerEnv) > 0 {
		fmt.Fprintf(w, "Server environment added: %s\n", strings.Join(r.ServerEnv, " "))
	}
	fmt.Fprintln(w)

	if len(r.Groups) > 0 {
		printCells(w, r.Groups)
	}
	if s := r.SignIn; s != nil {
		fmt.Fprintf(w, "\nSign-ins: %d workers for %v: %d sign-ins, %.0f/s, p50 %v, "+
			"p99 %v, server CPU %v per sign-in, %d failed, %.2f new server "+
			"connections to Auth0 per sign-in\n",
			s.Workers, s.Duration.Round(time.Millisecond), s.SignIns, s.PerSecond,
			roundLatency(s.P50), roundLatency(s.P99), roundCPU(s.CPUPerSignIn), s.Failures,
			s.ServerAuth0ConnectionsPerSignIn)
		if s.FirstError != "" {
			fmt.Fprintf(w, "First sign-in failure: %s\n", s.FirstError)
		}
	}
	if mem := r.Memory; mem != nil {
		fmt.Fprintf(w, "\nMemory: RSS %.1f MiB after %d launches, %.1f MiB after %d more "+
			"(%+.1f MiB), %d workers, %d not 200, %d failed\n",
			mebibytes(mem.Before), mem.Warmup, mebibytes(mem.After), mem.Launches,
			mebibytes(mem.After-mem.Before), mem.Workers, mem.Non200, mem.Failed)
	}
}

func printCells(w io.Writer, groups []GroupResult) {
	fmt.Fprintln(w, "| added latency | connections | launches/s | p50 | p99 "+
		"| not 200 | socket errors | PureWeb calls/launch | admin-token calls/launch "+
		"| new PureWeb connections | server CPU/launch | emulators CPU/launch "+
		"| wrk CPU/launch |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "+
		"| ---: | ---: | ---: | ---: |")
	for _, group := range groups {
		for _, c := range group.Cells {
			med := c.Median
			fmt.Fprintf(w, "| %v | %d | %.0f | %v | %v | %d | %d | %.3f | %.4f "+
				"| %d | %v | %v | %v |\n",
				c.Latency, c.Connections, med.LaunchesPerSecond,
				roundLatency(med.P50), roundLatency(med.P99), c.Non200, c.SocketErrors,
				med.PureWebCallsPerLaunch, med.AdminTokenCallsPerLaunch,
				med.NewPureWebConnections,
				roundCPU(med.CPUPerLaunch), roundCPU(med.EmulatorCPUPerLaunch),
				roundCPU(med.WrkCPUPerLaunch))
		}
	}
	fmt.Fprintln(w)
	for _, group := range groups {
		fmt.Fprintf(w, "Server RSS at %v added latency: %.1f MiB after the warm-up, "+
			"%.1f MiB after the last run\n",
			group.Latency, mebibytes(group.RSSBefore), mebibytes(group.RSSAfter))
	}
}

func roundLatency(d time.Duration) time.Duration {
	return d.Round(10 * time.Microsecond)
}

func roundCPU(d time.Duration) time.Duration {
	return d.Round(time.Microsecond)
}
