package emulator

import (
	"errors"
	"fmt"
)

// configProblems collects the invalid fields of a config, so that a
// constructor reports all of them at once.
type configProblems []error

func (p *configProblems) add(format string, args ...any) {
	*p = append(*p, fmt.Errorf(format, args...))
}

// err returns the problems joined under one message naming the config, or
// nil when there are none.
func (p configProblems) err(config string) error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("emulator: invalid %s config: %w", config, errors.Join(p...))
}
