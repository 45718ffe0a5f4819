// Command server runs the PureWeb launch application: Auth0 sign-in in front
// of PureWeb stream launches. With -demo it also runs local emulators of
// Auth0 and of the PureWeb API, so it works with no accounts and no network.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/joho/godotenv"
)

// defaultGCPercent is the garbage collector's target unless GOGC is set. The
// server's live heap is a few megabytes while each launch allocates tens of
// kilobytes, so Go's default of 100 collects very often: at 200, a launch
// costs about a fifth less CPU for about 4 MB more memory (BENCHMARKS.md).
const defaultGCPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	gin.SetMode(gin.ReleaseMode)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// Once the first signal starts the shutdown, restore the default
		// handling, so a second Ctrl-C ends the process at once.
		<-ctx.Done()
		stop()
	}()

	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	demo        bool
	envFile     string
	auth0Port   int
	purewebPort int

	purewebLatency time.Duration
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var opts options
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&opts.demo, "demo", false,
		"run with local emulators of Auth0 and PureWeb; anyone can sign in, so it binds to loopback")
	fs.StringVar(&opts.envFile, "env-file", ".env",
		"file of KEY=value settings; variables set in the environment win over it, "+
			"and a missing .env is skipped")
	fs.IntVar(&opts.auth0Port, "demo-auth0-port", 0,
		"loopback port of the Auth0 emulator in demo mode (0 picks a free port)")
	fs.IntVar(&opts.purewebPort, "demo-pureweb-port", 0,
		"loopback port of the PureWeb emulator in demo mode (0 picks a free port)")
	fs.DurationVar(&opts.purewebLatency, "demo-pureweb-latency", 0,
		"delay the PureWeb emulator adds to each call in demo mode, such as 20ms, "+
			"to stand in for the network")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: server [flags]\n\n"+
			"Serves Auth0 sign-in in front of PureWeb stream launches. Settings come from\n"+
			"environment variables and .env; .env.example lists and explains each one.\n"+
			"With -demo, local emulators stand in for Auth0 and PureWeb.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q: see -help", fs.Arg(0))
	}
	if opts.purewebLatency < 0 {
		return options{}, fmt.Errorf("-demo-pureweb-latency %v is negative: "+
			"use 0 or a duration such as 20ms", opts.purewebLatency)
	}
	return opts, nil
}

// run reads the flags and configuration, starts the server and blocks until
// ctx is cancelled, then shuts down.
func run(ctx context.Context, args []string, out io.Writer) error {
	opts, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	getenv, err := environment(opts.envFile)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(getenv, opts.demo)
	if err != nil {
		return err
	}

	logger := newLogger(out, cfg)
	// Libraries that log through slog's default logger, such as
	// gin-contrib/sessions, then share the format and the level.
	slog.SetDefault(logger)
	for _, warning := range cfg.Warnings {
		logger.Warn(warning)
	}
	inst, err := start(ctx, cfg, opts, logger, nil)
	if err != nil {
		return err
	}
	return inst.wait(ctx)
}

// newLogger returns the logger every part of the program writes to: text for
// a terminal, or one JSON object per line for a log collector.
func newLogger(out io.Writer, cfg config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}

// environment returns a lookup that prefers the process environment and falls
// back to the values in envFile. Only a missing default .env is not an error.
func environment(envFile string) (func(string) string, error) {
	fileValues, err := godotenv.Read(envFile)
	if errors.Is(err, fs.ErrNotExist) && envFile == ".env" {
		fileValues, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read settings from %s: %w (check -env-file)", envFile, err)
	}
	return func(key string) string {
		if v, ok := os.LookupEnv(key); ok {
			return v
		}
		return fileValues[key]
	}, nil
}
