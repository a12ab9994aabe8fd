// Package sandbox is `previewctl sandbox`: up (host the local data plane)
// and status (ask a running one what it serves).
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	sb "preview-environments/previewctl/pkg/sandbox"
)

// New returns the `sandbox` command.
func New() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run the local sandbox (S3, Lambda and API Gateway stand-ins on loopback)",
	}
	cmd.AddCommand(newUp(), newStatus())
	return cmd
}

// Configure lets the control plane (sandbox part 2) mount its handlers and
// start its components on the opened sandbox before it serves.
var Configure []func(ctx context.Context, s *sb.Sandbox) error

func newUp() *cobra.Command {
	var addr, data, bucket string
	var idle time.Duration
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the sandbox and serve until interrupted (SIGINT/SIGTERM)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sb.CheckLoopback(addr, "--addr"); err != nil {
				return err
			}
			if data == "" {
				root, err := RepoRoot()
				if err != nil {
					return fmt.Errorf("--data not given and %w", err)
				}
				data = filepath.Join(root, ".sandbox")
			}
			stderr := cmd.ErrOrStderr()
			s, err := sb.Open(cmd.Context(), sb.Config{
				Addr: addr, DataDir: data, Bucket: bucket, IdleTimeout: idle,
				Progress: stderr, Verbose: isTerminal(stderr),
				Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
			})
			if err != nil {
				return err
			}
			for _, c := range Configure {
				if err := c(cmd.Context(), s); err != nil {
					s.Close()
					return err
				}
			}
			err = s.Serve(cmd.Context())
			fmt.Fprintln(stderr, "sandbox: stopped")
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "addr", sb.DefaultAddr, "listen address (loopback only)")
	cmd.Flags().StringVar(&data, "data", "", "data directory (default <repository root>/.sandbox)")
	cmd.Flags().StringVar(&bucket, "bucket", sb.DefaultBucket, "artifact bucket in the S3 stand-in")
	cmd.Flags().DurationVar(&idle, "idle-timeout", 5*time.Minute, "stop a function's emulator after it has been idle this long")
	return cmd
}

func newStatus() *cobra.Command {
	var addr string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what a running sandbox serves",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sb.CheckLoopback(addr, "--addr"); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/status", nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("no sandbox answering on %s (start one with `previewctl sandbox up`): %w", addr, err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
			if err != nil {
				return fmt.Errorf("sandbox on %s: %w", addr, err)
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("sandbox on %s: /api/status: %s", addr, resp.Status)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				_, err := out.Write(body)
				return err
			}
			var st sb.Status
			if err := json.Unmarshal(body, &st); err != nil {
				return fmt.Errorf("sandbox on %s: /api/status: %w", addr, err)
			}
			fmt.Fprintf(out, "sandbox     %s\nS3 endpoint %s (bucket %s)\ndata        %s\n", st.URL, st.S3Endpoint, st.Bucket, st.DataDir)
			fmt.Fprintf(out, "environments: %d\n", len(st.Environments))
			for _, e := range st.Environments {
				fmt.Fprintf(out, "  %-10s %-16s %-12.12s warm=%d/%d  %s\n", e.ID, e.Service, e.Version, e.Warm, e.PoolSize, e.URL)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", sb.DefaultAddr, "address of the running sandbox")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the raw JSON status")
	return cmd
}

// RepoRoot walks up from the working directory to the folder holding go.work
// (the monorepo root), where the default data directory lives.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no repository root (a folder with go.work) above the working directory: pass --data")
		}
		dir = parent
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
