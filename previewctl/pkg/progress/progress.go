// Package progress shows what a command does while a person waits. On a
// terminal a status line is rewritten in place; anywhere else (CI logs,
// pipes, files) only lines that say something new are written, so a
// ten-minute wait stays a handful of lines.
package progress

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// clearLine returns to the start of the line and erases it (ANSI, which
// every terminal emulator people use here understands).
const clearLine = "\r\033[K"

// Status is one changing status line.
type Status struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	began   time.Time
	lastKey string
	printed bool
	open    bool // a tty line without its newline yet
}

// New returns a Status on w that rewrites in place when w is a terminal.
func New(w io.Writer) *Status { return NewTTY(w, IsTerminal(w)) }

// NewTTY is New with the terminal decision made by the caller.
func NewTTY(w io.Writer, tty bool) *Status {
	return &Status{w: w, tty: tty, began: time.Now()}
}

// Elapsed is the time since the Status was made.
func (s *Status) Elapsed() time.Duration { return time.Since(s.began) }

// Update shows line. On a terminal it replaces the current line; elsewhere
// it is written only when key differs from the previous update's key (pass
// the line without its counters, so "attempt 7" does not count as news).
func (s *Status) Update(key, line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tty {
		fmt.Fprint(s.w, clearLine+fit(line, width()))
		s.open = true
		return
	}
	if s.printed && key == s.lastKey {
		return
	}
	s.lastKey, s.printed = key, true
	fmt.Fprintln(s.w, line)
}

// Done writes a final line, always, and ends the status line.
func (s *Status) Done(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tty {
		fmt.Fprint(s.w, clearLine)
		s.open = false
	}
	fmt.Fprintln(s.w, line)
}

// Break ends a status line left open on a terminal, so what is written
// next starts on a line of its own.
func (s *Status) Break() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open {
		fmt.Fprintln(s.w)
		s.open = false
	}
}

// Clear erases a status line left open on a terminal (lines written next
// take its place); elsewhere it does nothing.
func (s *Status) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open {
		fmt.Fprint(s.w, clearLine)
		s.open = false
	}
}

// width is the terminal's width as the shell exports it, else 80: a line
// that wraps cannot be rewritten in place (the erase reaches only its last
// row).
func width() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 10 {
		return n
	}
	return 80
}

// fit cuts line to fewer than cols characters, marking the cut.
func fit(line string, cols int) string {
	r := []rune(line)
	if len(r) < cols {
		return line
	}
	return string(r[:cols-2]) + "…"
}

// Seconds formats a duration for people: "0.4 s", "12.3 s", "2 min 05 s".
func Seconds(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
}
