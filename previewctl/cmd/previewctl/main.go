// Command previewctl names, writes, reads and removes preview environments,
// and hosts the local sandbox. The command tree lives in pkg/cmd; this main
// only wires process exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"preview-environments/previewctl/pkg/cmd/root"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := root.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
