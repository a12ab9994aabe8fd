package spacelift

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The shapes of `tofu show -json` this engine reads: a saved plan's
// resource_changes, and a state's resources with their values.

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

type stateDoc struct {
	Values *struct {
		Outputs    map[string]stateOutput `json:"outputs"`
		RootModule stateModule            `json:"root_module"`
	} `json:"values"`
}

type stateOutput struct {
	Value     any  `json:"value"`
	Sensitive bool `json:"sensitive"`
}

type stateModule struct {
	Resources []struct {
		Address         string         `json:"address"`
		Mode            string         `json:"mode"`
		Values          map[string]any `json:"values"`
		SensitiveValues map[string]any `json:"sensitive_values"`
	} `json:"resources"`
	ChildModules []stateModule `json:"child_modules"`
}

// actionName maps a plan's actions to Spacelift's run.changes action.
func actionName(actions []string) (string, bool) {
	switch strings.Join(actions, ",") {
	case "create":
		return ActionAdded, true
	case "update":
		return ActionChanged, true
	case "delete":
		return ActionDeleted, true
	case "delete,create":
		return ActionReplaced, true
	case "create,delete":
		return ActionReplacedCBD, true
	}
	return "", false // no-op, read
}

// planChanges turns a saved plan into the plan-phase run.changes: managed
// resources only, no-ops dropped, in the plan's order. Values are what
// the plan knows (after for creations and updates, before for deletions);
// attributes unknown until apply are absent, as in Spacelift's plan phase.
func planChanges(planJSON []byte) ([]Change, error) {
	var doc planDoc
	if err := json.Unmarshal(planJSON, &doc); err != nil {
		return nil, fmt.Errorf("read plan JSON: %w", err)
	}
	var out []Change
	for _, rc := range doc.ResourceChanges {
		if rc.Mode != "managed" {
			continue
		}
		action, ok := actionName(rc.Change.Actions)
		if !ok {
			continue
		}
		values, sens := rc.Change.After, rc.Change.AfterSensitive
		if action == ActionDeleted {
			values, sens = rc.Change.Before, rc.Change.BeforeSensitive
		}
		out = append(out, Change{Action: action, Phase: "plan", Address: rc.Address, Type: rc.Type, Name: rc.Name,
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

// stateValues reads a state's managed resources' values by address, and
// its outputs.
func stateValues(stateJSON []byte) (map[string]map[string]any, map[string]stateOutput, error) {
	var doc stateDoc
	if err := json.Unmarshal(stateJSON, &doc); err != nil {
		return nil, nil, fmt.Errorf("read state JSON: %w", err)
	}
	vals := map[string]map[string]any{}
	if doc.Values == nil {
		return vals, map[string]stateOutput{}, nil
	}
	var walk func(m stateModule)
	walk = func(m stateModule) {
		for _, r := range m.Resources {
			if r.Mode == "managed" {
				vals[r.Address] = r.Values
			}
		}
		for _, c := range m.ChildModules {
			walk(c)
		}
	}
	walk(doc.Values.RootModule)
	outs := doc.Values.Outputs
	if outs == nil {
		outs = map[string]stateOutput{}
	}
	return vals, outs, nil
}

// applyChanges are the apply-phase entries of a finished apply: each
// planned change with the values it has now (a deletion keeps what it had).
func applyChanges(plan []Change, after map[string]map[string]any) []Change {
	out := make([]Change, 0, len(plan))
	for _, c := range plan {
		ac := c
		ac.Phase = "apply"
		if c.Action != ActionDeleted {
			if v, ok := after[c.Address]; ok {
				ac.Values = v
			}
		}
		out = append(out, ac)
	}
	return out
}
