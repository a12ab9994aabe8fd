package cmdutil

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/envfile"
)

// PRFlag defines a pull request number flag. cobra's IntVar parses with
// base 0, so "010" would be PR 8 and "0x10" PR 16: another PR's
// environment. Only envfile.ParsePR's decimal form is taken; a refusal
// names the flag and the value as given (exit 2 with InvalidFlags).
func PRFlag(cmd *cobra.Command, p *int, name, usage string) {
	cmd.Flags().Var(prValue{p}, name, usage)
}

type prValue struct{ n *int }

func (v prValue) String() string { return strconv.Itoa(*v.n) }
func (v prValue) Type() string   { return "int" }

func (v prValue) Set(s string) error {
	n, err := envfile.ParsePR(s)
	if err != nil {
		return reason(err)
	}
	*v.n = n
	return nil
}

// TTLFlag defines an environment TTL flag: a duration within
// envfile.ValidateTTL's bounds, refused at parse time so that the message
// names --ttl rather than the expires-at it would produce.
func TTLFlag(cmd *cobra.Command, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	cmd.Flags().Var(ttlValue{p}, name, usage)
}

type ttlValue struct{ d *time.Duration }

func (v ttlValue) String() string { return v.d.String() }
func (v ttlValue) Type() string   { return "duration" }

// durationRE is time.ParseDuration's syntax: what it matches but cannot
// parse is too large for a time.Duration, not a malformed duration.
var durationRE = regexp.MustCompile(`^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

func (v ttlValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil && durationRE.MatchString(s) && strings.HasPrefix(s, "-"):
		return errors.New("must be positive")
	case err != nil && durationRE.MatchString(s):
		return reason(envfile.ValidateTTL(envfile.MaxTTL + time.Second))
	case err != nil:
		return errors.New("must be a duration such as 72h or 30m")
	}
	if err := envfile.ValidateTTL(d); err != nil {
		return reason(err)
	}
	*v.d = d
	return nil
}

// reason keeps only why a FieldError refused its value: pflag's message
// around it already quotes the value and names the flag.
func reason(err error) error {
	var fe *envfile.FieldError
	if errors.As(err, &fe) {
		return errors.New(fe.Reason)
	}
	return err
}
