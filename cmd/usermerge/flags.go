package main

import (
	"flag"
	"fmt"
	"strings"
	"time"
)

// The flag package words its errors for Go programmers ("invalid value "x"
// for flag -limit: parse error"). parseFlagArgs reports them in the
// product's words instead: it finds unknown flags and missing values
// itself, before the flag package sees them, and learns of a bad value
// through a wrapper around each flag's Value, never from the error's text.

// badValue is a flag value that Set refused.
type badValue struct {
	name, value string
	kind        string // what the value must be, e.g. "a whole number"
	reason      string // a flag of the program's own (flag.Func): its own words
}

func (b *badValue) message() string {
	if b.reason != "" {
		return fmt.Sprintf("--%s %s: %s", b.name, b.value, b.reason)
	}
	return fmt.Sprintf("--%s must be %s, got %q", b.name, b.kind, b.value)
}

type watched struct {
	flag.Value
	name string
	bad  **badValue
}

func (w watched) Set(s string) error {
	err := w.Value.Set(s)
	if err != nil && *w.bad == nil {
		*w.bad = &badValue{name: w.name, value: s, kind: kindOf(w.Value)}
		if _, typed := w.Value.(flag.Getter); !typed {
			// Only the program's own flag.Func values are not Getters, and
			// their errors are written for the person at the terminal.
			(*w.bad).reason = err.Error()
		}
	}
	return err
}

type watchedBool struct{ watched }

func (watchedBool) IsBoolFlag() bool { return true }

// kindOf says what a flag's value must be, from the type of its default.
func kindOf(v flag.Value) string {
	g, ok := v.(flag.Getter)
	if !ok {
		return "valid"
	}
	switch g.Get().(type) {
	case bool:
		return "true or false"
	case int, int64:
		return "a whole number"
	case uint, uint64:
		return "a whole number of 0 or more"
	case float64:
		return "a number"
	case time.Duration:
		return "a duration such as 90s, 15m or 2h"
	}
	return "valid"
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// watch wraps fs's flags so that a refused value is recorded in *bad.
func watch(fs *flag.FlagSet, bad **badValue) {
	fs.VisitAll(func(f *flag.Flag) {
		w := watched{Value: f.Value, name: f.Name, bad: bad}
		if isBool(f) {
			f.Value = watchedBool{w}
		} else {
			f.Value = w
		}
	})
}

// checkFlags finds, in args as fs will parse them, the first flag fs does
// not define or a flag that needs a value and has none. It follows the
// flag package's syntax: -x and --x alike, -x=v, a value in the next
// argument for a non-boolean flag, "--" ending the flags; with
// interspersed, flags may follow positional arguments.
func checkFlags(fs *flag.FlagSet, args []string, interspersed bool, command string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return nil
		}
		if len(a) < 2 || a[0] != '-' {
			if !interspersed {
				return nil
			}
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		name, _, hasValue := strings.Cut(name, "=")
		if name == "help" || name == "h" {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			if command != "" {
				return usageError("%s has no flag --%s", command, name)
			}
			return usageError("there is no global flag --%s", name)
		}
		if hasValue || isBool(f) {
			continue
		}
		if i+1 == len(args) {
			return usageError("--%s needs a value", name)
		}
		i++
	}
	return nil
}
