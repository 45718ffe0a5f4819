// Command bench measures the application under load and prints a report:
// launches per second, latency, PureWeb calls and application CPU time per
// launch, resident memory, and sign-ins per second.
//
// It builds the server, runs the Auth0 and PureWeb emulators inside its own
// process and the server as a separate process, all on 127.0.0.1, so the
// CPU time and memory it reads from /proc belong to the server alone. It
// loads GET /launch with wrk, as a signed-in person, in cells of added
// PureWeb latency and concurrent connections.
//
// Usage:
//
//	go run ./cmd/bench [flags]
//
// The defaults run each cell for 15 s, 3 times, and take about 7 minutes.
// For a quick check:
//
//	go run ./cmd/bench -duration 1s -runs 1 -warmup 1s -signin-duration 1s \
//		-rss-launches 500
//
// Run it on an otherwise idle machine: the server, the emulators and wrk
// share its cores.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run parses args, runs the benchmark and prints the report to out.
// Progress goes to progress.
func run(ctx context.Context, args []string, out, progress io.Writer) error {
	opts, err := parseFlags(args, progress)
	if err != nil {
		return err
	}
	report, err := benchmark(ctx, opts, progress)
	if err != nil {
		return err
	}

	printReport(out, report)
	if opts.jsonPath == "" {
		return nil
	}
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return os.WriteFile(opts.jsonPath, append(data, '\n'), 0o644)
}

// options are the command-line flags.
type options struct {
	cells          []cell
	duration       time.Duration // of each wrk run
	runs           int
	warmup         time.Duration // wrk run before each group's first cell
	wrkThreads     int
	signInDuration time.Duration
	signInWorkers  int
	rssWarmup      int
	rssLaunches    int
	rssWorkers     int
	appBinary      string
	serverEnv      []string // extra KEY=VALUE variables for the server
	jsonPath       string
}

// cell is one load configuration: the latency the PureWeb emulator adds to
// each call and the number of wrk connections.
type cell struct {
	Latency     time.Duration `json:"latency"`
	Connections int           `json:"connections"`
}

func (c cell) String() string {
	return fmt.Sprintf("%v/%d", c.Latency, c.Connections)
}

const defaultCells = "0s/1,0s/8,0s/32,20ms/1,20ms/8,20ms/32"

func parseFlags(args []string, output io.Writer) (options, error) {
	var opts options
	var cells string
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&cells, "cells", defaultCells,
		"comma-separated cells of PureWeb latency/connections, such as 20ms/32")
	fs.DurationVar(&opts.duration, "duration", 15*time.Second,
		"length of each wrk run, in whole seconds")
	fs.IntVar(&opts.runs, "runs", 3, "runs of each cell; the report gives medians")
	fs.DurationVar(&opts.warmup, "warmup", 3*time.Second,
		"wrk run before the measured runs of each latency, in whole seconds; 0 skips it")
	fs.IntVar(&opts.wrkThreads, "wrk-threads", 1, "wrk threads, at most the connections")
	fs.DurationVar(&opts.signInDuration, "signin-duration", 10*time.Second,
		"length of the sign-in measurement; 0 skips it")
	fs.IntVar(&opts.signInWorkers, "signin-workers", 8, "concurrent sign-ins")
	fs.IntVar(&opts.rssWarmup, "rss-warmup", 1000, "launches before the first RSS reading")
	fs.IntVar(&opts.rssLaunches, "rss-launches", 20000,
		"launches between the two RSS readings; 0 skips the memory check")
	fs.IntVar(&opts.rssWorkers, "rss-workers", 32, "concurrent launches of the memory check")
	fs.StringVar(&opts.appBinary, "app", "",
		"server binary to run instead of building ./cmd/server")
	fs.Func("env", "extra KEY=VALUE variable for the server, such as GOGC=200; repeatable",
		func(value string) error {
			if key, _, ok := strings.Cut(value, "="); !ok || key == "" {
				return fmt.Errorf("%q is not KEY=VALUE", value)
			}
			opts.serverEnv = append(opts.serverEnv, value)
			return nil
		})
	fs.StringVar(&opts.jsonPath, "json", "", "also write the report as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q: see -help", fs.Arg(0))
	}

	var err error
	if opts.cells, err = parseCells(cells); err != nil {
		return options{}, err
	}
	return opts, opts.validate()
}

func (opts options) validate() error {
	var errs []error
	if len(opts.cells) > 0 && (opts.duration < time.Second || opts.duration%time.Second != 0) {
		errs = append(errs, fmt.Errorf("-duration %v must be whole seconds, at least 1s",
			opts.duration))
	}
	if opts.warmup < 0 || opts.warmup%time.Second != 0 {
		errs = append(errs, fmt.Errorf("-warmup %v must be whole seconds", opts.warmup))
	}
	if opts.runs < 1 {
		errs = append(errs, fmt.Errorf("-runs %d must be at least 1", opts.runs))
	}
	if opts.wrkThreads < 1 {
		errs = append(errs, fmt.Errorf("-wrk-threads %d must be at least 1", opts.wrkThreads))
	}
	if opts.signInWorkers < 1 || opts.rssWorkers < 1 {
		errs = append(errs, errors.New("-signin-workers and -rss-workers must be at least 1"))
	}
	if opts.signInDuration < 0 || opts.rssWarmup < 0 || opts.rssLaunches < 0 {
		errs = append(errs, errors.New(
			"-signin-duration, -rss-warmup and -rss-launches must not be negative"))
	}
	return errors.Join(errs...)
}

// parseCells parses a list such as "0s/1,20ms/32". An empty list runs no
// wrk cells.
func parseCells(list string) ([]cell, error) {
	var cells []cell
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		latencyText, connText, ok := strings.Cut(item, "/")
		latency, latencyErr := time.ParseDuration(latencyText)
		conns, connErr := strconv.Atoi(connText)
		if !ok || latencyErr != nil || connErr != nil || latency < 0 || conns < 1 {
			return nil, fmt.Errorf("-cells: %q is not LATENCY/CONNECTIONS, such as 20ms/32",
				item)
		}
		cells = append(cells, cell{Latency: latency, Connections: conns})
	}
	return cells, nil
}
