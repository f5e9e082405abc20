package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// bar draws a one-line progress bar on a terminal; with no writer it does
// nothing. It is redrawn at most every 100 ms.
type bar struct {
	w           io.Writer
	label, what string
	total, done int64
	began, last time.Time
	width       int // of the last line, to blank it
}

func newBar(w io.Writer) *bar { return &bar{w: w} }

func (b *bar) start(label string, total int64) {
	b.label, b.total, b.done, b.began = label, total, 0, time.Now()
}

func (b *bar) set(what string, done int64) {
	b.what, b.done = what, done
	if b.w == nil || time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	b.draw()
}

func (b *bar) draw() {
	const cells = 30
	frac := 0.0
	if b.total > 0 {
		frac = min(1, float64(b.done)/float64(b.total))
	}
	full := int(frac * cells)
	rate := float64(b.done) / max(time.Since(b.began).Seconds(), 0.001)
	line := fmt.Sprintf("%s %-20s [%s%s] %3.0f%%  %s/%s rows  %s rows/s", b.label, b.what,
		strings.Repeat("=", full), strings.Repeat(" ", cells-full), frac*100, thousands(b.done), thousands(b.total), thousands(int64(rate)))
	b.put(line)
}

func (b *bar) put(line string) {
	pad := ""
	if n := b.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(b.w, "\r%s%s", line, pad)
	b.width = len(line)
}

// finish draws the bar complete and ends its line.
func (b *bar) finish() {
	if b.w == nil {
		return
	}
	b.what, b.done = "done", b.total
	b.draw()
	fmt.Fprintln(b.w)
	b.width = 0
}

// note replaces the line with a short status ("" clears it).
func (b *bar) note(s string) {
	if b.w == nil {
		return
	}
	if s != "" {
		s += " ..."
	}
	b.put(s)
	if s == "" {
		fmt.Fprint(b.w, "\r")
		b.width = 0
	}
}

// thousands formats n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
