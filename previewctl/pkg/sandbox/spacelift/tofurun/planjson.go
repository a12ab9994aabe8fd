package tofurun

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"preview-environments/previewctl/pkg/sandbox/spacelift/store"
)

// The shapes a run reads: `tofu show -json` of a saved plan (its
// resource_changes), and the state file tofu writes to the stand-in.

type planDoc struct {
	ResourceChanges []resourceChange `json:"resource_changes"`
}

type resourceChange struct {
	Address string `json:"address"`
	Mode    string `json:"mode"`
	Type    string `json:"type"`
	Name    string `json:"name"`
	Change  struct {
		Actions         []string       `json:"actions"`
		Before          map[string]any `json:"before"`
		After           map[string]any `json:"after"`
		BeforeSensitive any            `json:"before_sensitive"`
		AfterSensitive  any            `json:"after_sensitive"`
	} `json:"change"`
}

// actionName maps a plan's actions to Spacelift's run.changes action.
func actionName(actions []string) (string, bool) {
	switch strings.Join(actions, ",") {
	case "create":
		return store.ActionAdded, true
	case "update":
		return store.ActionChanged, true
	case "delete":
		return store.ActionDeleted, true
	case "delete,create":
		return store.ActionReplaced, true
	case "create,delete":
		return store.ActionReplacedCBD, true
	}
	return "", false // no-op, read
}

// PlanChanges turns a saved plan into the plan-phase run.changes: managed
// resources only, no-ops dropped, in the plan's order. Values are what
// the plan knows (after for creations and updates, before for deletions);
// attributes unknown until apply are absent, as in Spacelift's plan phase.
func PlanChanges(planJSON []byte) ([]store.Change, error) {
	var doc planDoc
	if err := json.Unmarshal(planJSON, &doc); err != nil {
		return nil, fmt.Errorf("read plan JSON: %w", err)
	}
	var out []store.Change
	for _, rc := range doc.ResourceChanges {
		if rc.Mode != "managed" {
			continue
		}
		action, ok := actionName(rc.Change.Actions)
		if !ok {
			continue
		}
		values, sens := rc.Change.After, rc.Change.AfterSensitive
		if action == store.ActionDeleted {
			values, sens = rc.Change.Before, rc.Change.BeforeSensitive
		}
		out = append(out, store.Change{Action: action, Phase: "plan", Address: rc.Address, Type: rc.Type, Name: rc.Name,
			Values: values, Sensitive: sensitiveKeys(sens)})
	}
	return out, nil
}

// sensitiveKeys lists the top-level attributes a plan or state marks
// sensitive (wholly or in part).
func sensitiveKeys(marks any) []string {
	m, ok := marks.(map[string]any)
	if !ok {
		return nil
	}
	var out []string
	for k, v := range m {
		if v != false && v != nil {
			if b, isBool := v.(bool); isBool && !b {
				continue
			}
			if mm, isMap := v.(map[string]any); isMap && len(mm) == 0 {
				continue
			}
			if l, isList := v.([]any); isList && len(l) == 0 {
				continue
			}
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// rawState is the part of OpenTofu's state file (format version 4) the
// engine reads back after an apply: each managed resource instance's
// attributes and the outputs. It is read from the stand-in's own copy of
// the state, which saves a `tofu show -json` (a tofu start and both
// providers' schemas) per run.
type rawState struct {
	Version   int                     `json:"version"`
	Outputs   map[string]store.Output `json:"outputs"`
	Resources []struct {
		Module    string `json:"module"`
		Mode      string `json:"mode"`
		Type      string `json:"type"`
		Name      string `json:"name"`
		Instances []struct {
			IndexKey   any            `json:"index_key"`
			Attributes map[string]any `json:"attributes"`
		} `json:"instances"`
	} `json:"resources"`
}

// StateValues reads a state file's managed resources by address, in
// the addresses plans use, and its outputs.
func StateValues(b []byte) (map[string]map[string]any, map[string]store.Output, error) {
	vals := map[string]map[string]any{}
	if len(b) == 0 {
		return vals, map[string]store.Output{}, nil
	}
	var st rawState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, nil, fmt.Errorf("read state: %w", err)
	}
	if st.Version != 4 {
		return nil, nil, fmt.Errorf("read state: format version %d, want 4", st.Version)
	}
	for _, r := range st.Resources {
		if r.Mode != "managed" {
			continue
		}
		base := r.Type + "." + r.Name
		if r.Module != "" {
			base = r.Module + "." + base
		}
		for _, in := range r.Instances {
			addr := base
			switch k := in.IndexKey.(type) {
			case string:
				q, _ := json.Marshal(k)
				addr += "[" + string(q) + "]"
			case float64:
				addr += fmt.Sprintf("[%d]", int64(k))
			}
			vals[addr] = in.Attributes
		}
	}
	if st.Outputs == nil {
		st.Outputs = map[string]store.Output{}
	}
	return vals, st.Outputs, nil
}

// ApplyChanges are the apply-phase entries of a finished apply: each
// planned change with the values it has now (a deletion keeps what it had).
func ApplyChanges(plan []store.Change, after map[string]map[string]any) []store.Change {
	out := make([]store.Change, 0, len(plan))
	for _, c := range plan {
		ac := c
		ac.Phase = "apply"
		if c.Action != store.ActionDeleted {
			if v, ok := after[c.Address]; ok {
				ac.Values = v
			}
		}
		out = append(out, ac)
	}
	return out
}
