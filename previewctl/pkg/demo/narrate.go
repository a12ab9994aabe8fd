package demo

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// narrator prints the demo's progress with the elapsed time. On a terminal
// it adds emphasis and the intermediate preview states; otherwise it stays
// plain and prints only steps and results, so CI logs read top to bottom.
type narrator struct {
	mu    sync.Mutex
	out   io.Writer
	tty   bool
	began time.Time
}

const (
	bold  = "\x1b[1m"
	green = "\x1b[32m"
	red   = "\x1b[31m"
	dim   = "\x1b[2m"
	reset = "\x1b[0m"
)

func (n *narrator) stamp() string {
	return fmt.Sprintf("[%6.1fs]", time.Since(n.began).Seconds())
}

func (n *narrator) line(style, prefix, format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if n.tty && style != "" {
		fmt.Fprintf(n.out, "%s %s%s%s%s\n", n.stamp(), style, prefix, msg, reset)
		return
	}
	fmt.Fprintf(n.out, "%s %s%s\n", n.stamp(), prefix, msg)
}

// step announces one of the numbered steps.
func (n *narrator) step(i, of int, format string, args ...any) {
	n.line(bold, fmt.Sprintf("step %d/%d: ", i, of), format, args...)
}

// info is a line of a step.
func (n *narrator) info(format string, args ...any) { n.line("", "  ", format, args...) }

// ok is a step's result.
func (n *narrator) ok(format string, args ...any) {
	if n.tty {
		n.line(green, "  ✓ ", format, args...)
		return
	}
	n.line("", "  ok: ", format, args...)
}

// detail is shown on a terminal only (state transitions while waiting).
func (n *narrator) detail(format string, args ...any) {
	if n.tty {
		n.line(dim, "    · ", format, args...)
	}
}

// fail starts the failure report.
func (n *narrator) fail(format string, args ...any) {
	if n.tty {
		n.line(red, "  ✗ ", format, args...)
		return
	}
	n.line("", "  FAILED: ", format, args...)
}

// block prints lines under a heading without timestamps (logs, commands).
func (n *narrator) block(heading string, lines []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.out, "    %s\n", heading)
	if len(lines) == 0 {
		fmt.Fprintln(n.out, "      (empty)")
	}
	for _, l := range lines {
		fmt.Fprintf(n.out, "      %s\n", strings.TrimRight(l, "\n"))
	}
}

// command prints a line a person can paste, unindented by timestamps.
func (n *narrator) command(cmd string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.tty {
		fmt.Fprintf(n.out, "           %s$ %s%s\n", bold, cmd, reset)
		return
	}
	fmt.Fprintf(n.out, "           $ %s\n", cmd)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
