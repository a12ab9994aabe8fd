package spacelift_test

import data.spacelift
import data.testdata.push.branch_push
import data.testdata.push.pr_synchronize

decision(doc) := {"track": track_of(doc), "propose": p, "ignore": ignore_of(doc)} if {
	p := spacelift.propose with input as doc
}

# An undefined track or ignore rule reads as false, as Spacelift reads it.
track_of(doc) if {
	spacelift.track with input as doc
} else := false

ignore_of(doc) if {
	spacelift.ignore with input as doc
} else := false

with_push(doc, fields) := object.union(doc, {"push": object.union(doc.push, fields)})

with_stack(doc, fields) := object.union(doc, {"stack": object.union(doc.stack, fields)})

tracked := {"track": true, "propose": false, "ignore": false}

ignored := {"track": false, "propose": false, "ignore": true}

test_push_table if {
	cases := [
		{"name": "on branch, inside project root", "doc": branch_push, "want": tracked},
		{
			"name": "other branch",
			"doc": with_push(branch_push, {"branch": "main"}),
			"want": ignored,
		},
		{
			"name": "outside project root",
			"doc": with_push(branch_push, {"affected_files": ["service/handler.go", "README.md"]}),
			"want": ignored,
		},
		{
			"name": "prefix of a longer directory is not the root",
			"doc": with_push(branch_push, {"affected_files": ["infrastructure/main.tf", "infra.md"]}),
			"want": ignored,
		},
		{
			"name": "the root itself, slashes trimmed",
			"doc": with_push(branch_push, {"affected_files": ["/infra/"]}),
			"want": tracked,
		},
		{
			"name": "additional project glob",
			"doc": with_push(branch_push, {"affected_files": ["shared/terraform/modules/dns/main.tf"]}),
			"want": tracked,
		},
		{
			"name": "glob does not reach sibling directories",
			"doc": with_push(branch_push, {"affected_files": ["shared/docs/terraform.md"]}),
			"want": ignored,
		},
		{
			"name": "no affected files",
			"doc": with_push(branch_push, {"affected_files": []}),
			"want": ignored,
		},
		{
			"name": "tag push on the stack's branch",
			"doc": with_push(branch_push, {"tag": "v1.2.3"}),
			"want": ignored,
		},
		{"name": "pull request event", "doc": pr_synchronize, "want": ignored},
		{
			"name": "project root at repository root, leading slash",
			"doc": with_stack(with_push(branch_push, {"affected_files": ["README.md"]}), {"project_root": "/"}),
			"want": tracked,
		},
		{
			"name": "null project root is the whole repository",
			"doc": with_stack(with_push(branch_push, {"affected_files": ["README.md"]}), {"project_root": null}),
			"want": tracked,
		},
		{
			"name": "project root with slashes",
			"doc": with_stack(branch_push, {"project_root": "/infra/"}),
			"want": tracked,
		},
	]
	every c in cases {
		got := decision(c.doc)
		got == c.want
	}
}

test_pull_request_actions_never_track if {
	every action in ["opened", "reopened", "synchronize", "labeled", "unlabeled", "edited", "closed", "merged", "commented"] {
		doc := object.union(pr_synchronize, {"pull_request": {"action": action}})
		decision(doc) == ignored
	}
}

test_preview_stacks_never_propose if {
	every doc in [branch_push, pr_synchronize, with_push(branch_push, {"branch": "main"})] {
		spacelift.propose == false with input as doc
	}
}

test_ignore_reasons if {
	cases := [
		{"doc": branch_push, "want": set()},
		{"doc": pr_synchronize, "want": {"pull request event, not a push"}},
		{"doc": with_push(branch_push, {"tag": "v1"}), "want": {"tag push"}},
		{
			"doc": with_push(branch_push, {"branch": "main", "affected_files": ["README.md"]}),
			"want": {
				`branch "main" is not the stack's branch "feature/login"`,
				`no affected file under project root "infra" or its additional globs`,
			},
		},
	]
	every c in cases {
		spacelift.reasons == c.want with input as c.doc
	}
}
