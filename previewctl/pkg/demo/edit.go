package demo

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Paths the demo's PRs change.
const (
	HandlerPath = "service/handler/handler.go"
	InfraPath   = "infra/main.tf"
)

var greetingRE = regexp.MustCompile(`\b(DefaultGreeting\s*=\s*)"(?:[^"\\\n]|\\.)*"`)

// SetGreeting rewrites the handler source's DefaultGreeting constant, as a
// person would edit the service's message on a branch. The new text goes
// through strconv.Quote, so any string yields valid Go.
func SetGreeting(src []byte, greeting string) ([]byte, error) {
	locs := greetingRE.FindAllSubmatchIndex(src, -1)
	if len(locs) != 1 {
		return nil, fmt.Errorf("%s: want exactly one `DefaultGreeting = \"...\"` to edit, found %d", HandlerPath, len(locs))
	}
	l := locs[0]
	var out bytes.Buffer
	out.Write(src[:l[3]])
	out.WriteString(strconv.Quote(greeting))
	out.Write(src[l[1]:])
	return out.Bytes(), nil
}

// AddFunctionEnv adds name = value to environment.variables of the first
// aws_lambda_function in src (infra/main.tf): the infra change the demo
// makes visible. The value is written as an HCL string literal (escaping
// quotes and template introducers), never spliced in as text.
func AddFunctionEnv(src []byte, name, value string) ([]byte, error) {
	if !hclsyntax.ValidIdentifier(name) {
		return nil, fmt.Errorf("environment variable name %q is not an HCL identifier", name)
	}
	f, diags := hclwrite.ParseConfig(src, InfraPath, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("parse %s: %w", InfraPath, diags)
	}
	var fn *hclwrite.Block
	for _, b := range f.Body().Blocks() {
		if l := b.Labels(); b.Type() == "resource" && len(l) == 2 && l[0] == "aws_lambda_function" {
			fn = b
			break
		}
	}
	if fn == nil {
		return nil, fmt.Errorf("%s: no resource \"aws_lambda_function\" block", InfraPath)
	}
	env := fn.Body().FirstMatchingBlock("environment", nil)
	if env == nil {
		return nil, fmt.Errorf("%s: aws_lambda_function.%s has no environment block", InfraPath, fn.Labels()[1])
	}
	attr := env.Body().GetAttribute("variables")
	if attr == nil {
		return nil, fmt.Errorf("%s: aws_lambda_function.%s environment has no variables", InfraPath, fn.Labels()[1])
	}
	toks := attr.Expr().BuildTokens(nil)
	closing := -1
	for i := len(toks) - 1; i >= 0; i-- {
		if toks[i].Type == hclsyntax.TokenCBrace {
			closing = i
			break
		}
	}
	if len(toks) == 0 || toks[0].Type != hclsyntax.TokenOBrace || closing < 0 {
		return nil, fmt.Errorf("%s: environment.variables is not an object literal { ... }", InfraPath)
	}
	if hasKey(toks, name) {
		return nil, fmt.Errorf("%s: environment.variables already sets %s", InfraPath, name)
	}
	item := hclwrite.Tokens{
		{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")},
		{Type: hclsyntax.TokenIdent, Bytes: []byte(name)},
		{Type: hclsyntax.TokenEqual, Bytes: []byte("=")},
	}
	item = append(item, hclwrite.TokensForValue(cty.StringVal(value))...)
	item = append(item, &hclwrite.Token{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")})
	out := append(hclwrite.Tokens{}, toks[:closing]...)
	// Drop the newline before the brace: the item brings its own.
	for len(out) > 1 && out[len(out)-1].Type == hclsyntax.TokenNewline {
		out = out[:len(out)-1]
	}
	out = append(out, item...)
	out = append(out, toks[closing:]...)
	env.Body().SetAttributeRaw("variables", out)
	res := hclwrite.Format(f.Bytes())
	if _, diags := hclsyntax.ParseConfig(res, InfraPath, hcl.InitialPos); diags.HasErrors() {
		return nil, errors.Join(fmt.Errorf("%s: the edit does not parse", InfraPath), diags)
	}
	return res, nil
}

// hasKey reports whether an object literal's tokens hold name as a key at
// its top level.
func hasKey(toks hclwrite.Tokens, name string) bool {
	depth := 0
	for i, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen:
			depth++
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen:
			depth--
		case hclsyntax.TokenIdent:
			if depth == 1 && string(t.Bytes) == name && i+1 < len(toks) &&
				(toks[i+1].Type == hclsyntax.TokenEqual || toks[i+1].Type == hclsyntax.TokenColon) {
				return true
			}
		}
	}
	return false
}
