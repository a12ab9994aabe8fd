package awsprovider

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// State-only resources: the sandbox has no IAM, CloudWatch Logs, ACM or
// Route 53 whose objects would change what it serves (the gateway serves
// plain HTTP on the domain names themselves), so these resources exist in
// OpenTofu's state alone, with their computed attributes in the real
// formats. They still check what the real APIs would refuse (policies that
// are not JSON, retention periods CloudWatch does not offer, records
// without a TTL) so a configuration that fails in AWS fails here too.

func checkJSON(what, s string) error {
	if !json.Valid([]byte(s)) {
		return fmt.Errorf("%s is not valid JSON (MalformedPolicyDocument)", what)
	}
	return nil
}

// nameFrom fills name from name_prefix (or the real provider's
// "terraform-" prefix) when the configuration gave none.
func nameFrom(p *obj) string {
	if p.has("name") {
		return p.str("name")
	}
	prefix := p.str("name_prefix")
	if prefix == "" {
		prefix = "terraform-"
	}
	return uniqueName(prefix)
}

func iamRole() *resourceDef {
	return &resourceDef{
		name: "aws_iam_role",
		schema: schema.Schema{
			Attributes: attrs{
				"arn":                   strAttr(cmp),
				"assume_role_policy":    strAttr(req),
				"create_date":           strAttr(cmp),
				"description":           strAttr(opt),
				"force_detach_policies": boolAttr(opt),
				"id":                    strAttr(oc),
				"managed_policy_arns":   setAttr(oc|deprecated, []string{}),
				"max_session_duration":  intAttr(opt),
				"name":                  strAttr(oc | forceNew),
				"name_prefix":           strAttr(oc | forceNew),
				"path":                  strAttr(opt | forceNew),
				"permissions_boundary":  strAttr(opt),
				"tags":                  mapAttr(opt, nil),
				"tags_all":              mapAttr(oc, nil),
				"unique_id":             strAttr(cmp),
			},
			Blocks: blocks{"inline_policy": setBlock(attrs{"name": strAttr(opt), "policy": strAttr(opt)})},
		},
		create: func(_ context.Context, _ *client, p *obj) error {
			if err := checkJSON("assume_role_policy", p.str("assume_role_policy")); err != nil {
				return err
			}
			if n, ok := p.int("max_session_duration"); ok && (n < 3600 || n > 43200) {
				return fmt.Errorf("max_session_duration %d: want 3600 to 43200 seconds", n)
			}
			name := nameFrom(p)
			path := p.str("path")
			if path == "" {
				path = "/"
			}
			p.set("name", name)
			p.set("id", name)
			p.setIfUnknown("name_prefix", "")
			p.set("arn", "arn:aws:iam::"+Account+":role"+path+name)
			p.set("unique_id", "AROA"+derivedID(name, 17))
			p.set("create_date", time.Now().UTC().Format(time.RFC3339))
			return nil
		},
		update: func(_ context.Context, _ *client, p, _ *obj) error {
			return checkJSON("assume_role_policy", p.str("assume_role_policy"))
		},
	}
}

// derivedID is n upper-case base32 characters derived from s: stable IDs
// in the shape of IAM's unique IDs.
func derivedID(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(sum[:])[:n]
}

func iamRolePolicy() *resourceDef {
	return &resourceDef{
		name: "aws_iam_role_policy",
		schema: schema.Schema{Attributes: attrs{
			"id":          strAttr(oc),
			"name":        strAttr(oc | forceNew),
			"name_prefix": strAttr(oc | forceNew),
			"policy":      strAttr(req),
			"role":        strAttr(req | forceNew),
		}},
		create: func(_ context.Context, _ *client, p *obj) error {
			if err := checkJSON("policy", p.str("policy")); err != nil {
				return err
			}
			name := nameFrom(p)
			p.set("name", name)
			p.setIfUnknown("name_prefix", "")
			p.set("id", p.str("role")+":"+name)
			return nil
		},
		update: func(_ context.Context, _ *client, p, _ *obj) error { return checkJSON("policy", p.str("policy")) },
	}
}

// CloudWatch Logs' retention periods (0: never expire).
var retentionDays = []int64{0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func cloudwatchLogGroup() *resourceDef {
	check := func(p *obj) error {
		if n, ok := p.int("retention_in_days"); ok && !slices.Contains(retentionDays, n) {
			return fmt.Errorf("retention_in_days %d: CloudWatch Logs offers %v", n, retentionDays)
		}
		if c := p.str("log_group_class"); c != "STANDARD" && c != "INFREQUENT_ACCESS" && c != "DELIVERY" {
			return fmt.Errorf("log_group_class %q: want STANDARD, INFREQUENT_ACCESS or DELIVERY", c)
		}
		return nil
	}
	return &resourceDef{
		name: "aws_cloudwatch_log_group",
		schema: schema.Schema{Attributes: attrs{
			"arn":               strAttr(cmp),
			"id":                strAttr(oc),
			"kms_key_id":        strAttr(opt),
			"log_group_class":   strAttr(oc|forceNew, "STANDARD"),
			"name":              strAttr(oc | forceNew),
			"name_prefix":       strAttr(oc | forceNew),
			"retention_in_days": intAttr(opt),
			"skip_destroy":      boolAttr(opt),
			"tags":              mapAttr(opt, nil),
			"tags_all":          mapAttr(oc, nil),
		}},
		create: func(_ context.Context, c *client, p *obj) error {
			if err := check(p); err != nil {
				return err
			}
			name := nameFrom(p)
			p.set("name", name)
			p.set("id", name)
			p.setIfUnknown("name_prefix", "")
			p.set("arn", "arn:aws:logs:"+c.region+":"+Account+":log-group:"+name)
			return nil
		},
		update: func(_ context.Context, _ *client, p, _ *obj) error { return check(p) },
	}
}

// validationRecord is the DNS record ACM asks for to validate domain:
// deterministic, so domain_validation_options is known when planning (as
// manager/'s for_each over it needs) and the same on every plan.
func validationRecord(domain string) (name, value string) {
	base := strings.TrimPrefix(domain, "*.")
	n := sha256.Sum256([]byte("acm-validation-name:" + base))
	v := sha256.Sum256([]byte("acm-validation-value:" + base))
	label := make([]byte, 10)
	for i := range label {
		label[i] = 'a' + v[16+i]%26
	}
	return "_" + hex.EncodeToString(n[:16]) + "." + base + ".", "_" + hex.EncodeToString(v[:16]) + "." + string(label) + ".acm-validations.aws."
}

// domainValidationOptions lists one record per distinct name, as ACM does
// for a domain and its subject alternative names.
func domainValidationOptions(names []string) []map[string]any {
	var out []map[string]any
	seen := map[string]bool{}
	for _, d := range names {
		if seen[d] {
			continue
		}
		seen[d] = true
		rn, rv := validationRecord(d)
		out = append(out, map[string]any{"domain_name": d, "resource_record_name": rn, "resource_record_type": "CNAME", "resource_record_value": rv})
	}
	return out
}

var certDomainRE = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$`)

func acmCertificate() *resourceDef {
	dvoType := types.SetType{ElemType: types.ObjectType{AttrTypes: map[string]attr.Type{
		"domain_name": types.StringType, "resource_record_name": types.StringType, "resource_record_type": types.StringType, "resource_record_value": types.StringType,
	}}}
	renewalType := types.ListType{ElemType: types.ObjectType{AttrTypes: map[string]attr.Type{
		"renewal_status": types.StringType, "renewal_status_reason": types.StringType, "updated_at": types.StringType,
	}}}
	return &resourceDef{
		name: "aws_acm_certificate",
		schema: schema.Schema{
			Attributes: attrs{
				"arn":                       strAttr(cmp),
				"certificate_authority_arn": strAttr(opt | forceNew),
				"certificate_body":          strAttr(opt),
				"certificate_chain":         strAttr(opt),
				"domain_name":               strAttr(oc | forceNew),
				"domain_validation_options": schema.SetAttribute{ElementType: dvoType.ElemType, Computed: true},
				"early_renewal_duration":    strAttr(opt),
				"id":                        strAttr(oc),
				"key_algorithm":             strAttr(oc | forceNew),
				"not_after":                 strAttr(cmp),
				"not_before":                strAttr(cmp),
				"pending_renewal":           boolAttr(cmp),
				"private_key":               strAttr(opt | sensitive),
				"renewal_eligibility":       strAttr(cmp),
				"renewal_summary":           schema.ListAttribute{ElementType: renewalType.ElemType, Computed: true},
				"status":                    strAttr(cmp),
				"subject_alternative_names": setAttr(oc | forceNew),
				"tags":                      mapAttr(opt, nil),
				"tags_all":                  mapAttr(oc, nil),
				"type":                      strAttr(cmp),
				"validation_emails":         listAttr(cmp),
				"validation_method":         strAttr(oc | forceNew),
			},
			Blocks: blocks{
				"options":           listBlock(1, attrs{"certificate_transparency_logging_preference": strAttr(opt)}, nil),
				"validation_option": setBlock(attrs{"domain_name": strAttr(req), "validation_domain": strAttr(req)}),
			},
		},
		plan: func(_ context.Context, _ *client, plan, prior, config *obj, _ *resource.ModifyPlanResponse) error {
			imported := config.has("certificate_body") || !config.known("certificate_body")
			private := config.has("certificate_authority_arn")
			if !imported && config.isNull("domain_name") {
				return fmt.Errorf("domain_name: required to request a certificate (or import one with certificate_body)")
			}
			if config.isNull("validation_method") {
				switch {
				case imported || private:
					plan.set("validation_method", "NONE")
				default:
					return fmt.Errorf("validation_method: required to request a certificate: DNS or EMAIL")
				}
			}
			if prior != nil || imported {
				return nil // the generic plan kept the prior values
			}
			if !plan.known("domain_name") {
				return nil
			}
			domain := plan.str("domain_name")
			if !certDomainRE.MatchString(domain) {
				return fmt.Errorf("domain_name %q: not a (wildcard) domain name ACM can issue for", domain)
			}
			if config.isNull("subject_alternative_names") {
				plan.set("subject_alternative_names", []string{domain})
			}
			plan.setIfUnknown("key_algorithm", "RSA_2048")
			// Known now, so that a for_each over it plans in one go.
			if plan.known("subject_alternative_names") && plan.known("validation_method") {
				dvo := []map[string]any{}
				if plan.str("validation_method") == "DNS" {
					dvo = domainValidationOptions(append([]string{domain}, plan.strList("subject_alternative_names")...))
				}
				plan.set("domain_validation_options", dvo)
			}
			return nil
		},
		create: func(_ context.Context, c *client, p *obj) error {
			now := time.Now().UTC()
			notBefore, notAfter := now, now.AddDate(0, 0, 395)
			p.set("type", "AMAZON_ISSUED")
			if p.has("certificate_authority_arn") {
				p.set("type", "PRIVATE")
			}
			if p.has("certificate_body") {
				info, err := parseCertificate(p.str("certificate_body"))
				if err != nil {
					return err
				}
				p.set("type", "IMPORTED")
				p.setIfUnknown("domain_name", info.domain)
				p.setIfUnknown("subject_alternative_names", info.sans)
				p.setIfUnknown("key_algorithm", info.keyAlgorithm)
				p.setIfUnknown("domain_validation_options", []map[string]any{})
				notBefore, notAfter = info.notBefore, info.notAfter
			}
			var id [16]byte
			rand.Read(id[:])
			id[6], id[8] = id[6]&0x0f|0x40, id[8]&0x3f|0x80
			arn := fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%x-%x-%x-%x-%x", c.region, Account, id[0:4], id[4:6], id[6:8], id[8:10], id[10:])
			p.set("arn", arn)
			p.set("id", arn)
			p.set("status", "ISSUED")
			p.set("not_before", notBefore.Format(time.RFC3339))
			p.set("not_after", notAfter.Format(time.RFC3339))
			p.set("pending_renewal", false)
			p.set("renewal_eligibility", "INELIGIBLE")
			p.set("renewal_summary", []map[string]any{})
			p.set("validation_emails", []string{})
			return nil
		},
	}
}

type certInfo struct {
	domain, keyAlgorithm string
	sans                 []string
	notBefore, notAfter  time.Time
}

func parseCertificate(body string) (certInfo, error) {
	b, _ := pem.Decode([]byte(body))
	if b == nil {
		return certInfo{}, fmt.Errorf("certificate_body: not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return certInfo{}, fmt.Errorf("certificate_body: %w", err)
	}
	info := certInfo{domain: cert.Subject.CommonName, sans: cert.DNSNames, notBefore: cert.NotBefore.UTC(), notAfter: cert.NotAfter.UTC()}
	if info.domain == "" && len(info.sans) > 0 {
		info.domain = info.sans[0]
	}
	if info.sans == nil {
		info.sans = []string{}
	}
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		info.keyAlgorithm = fmt.Sprintf("RSA_%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		info.keyAlgorithm = fmt.Sprintf("EC_prime%d", k.Curve.Params().BitSize)
	default:
		info.keyAlgorithm = "RSA_2048"
	}
	return info, nil
}

var acmARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$`)

func acmCertificateValidation() *resourceDef {
	return &resourceDef{
		name: "aws_acm_certificate_validation",
		schema: schema.Schema{
			Attributes: attrs{
				"certificate_arn":         strAttr(req | forceNew),
				"id":                      strAttr(oc),
				"validation_record_fqdns": setAttr(opt | forceNew),
			},
			Blocks: blocks{"timeouts": timeoutsBlock("create")},
		},
		// Validation is instant: nothing in the sandbox resolves the records.
		create: func(_ context.Context, _ *client, p *obj) error {
			arn := p.str("certificate_arn")
			if !acmARNRE.MatchString(arn) {
				return fmt.Errorf("certificate_arn %q: not an ACM certificate ARN", arn)
			}
			p.set("id", arn)
			return nil
		},
	}
}

var recordTypes = []string{"A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT"}

func route53Record() *resourceDef {
	return &resourceDef{
		name: "aws_route53_record",
		schema: schema.Schema{
			Attributes: attrs{
				"allow_overwrite":                  boolAttr(oc, false),
				"fqdn":                             strAttr(cmp),
				"health_check_id":                  strAttr(opt),
				"id":                               strAttr(oc),
				"multivalue_answer_routing_policy": boolAttr(opt),
				"name":                             strAttr(req | forceNew),
				"records":                          setAttr(opt),
				"set_identifier":                   strAttr(opt | forceNew),
				"ttl":                              intAttr(opt),
				"type":                             strAttr(req | forceNew),
				"zone_id":                          strAttr(req | forceNew),
			},
			Blocks: blocks{
				"alias": listBlock(1, attrs{"evaluate_target_health": boolAttr(req), "name": strAttr(req), "zone_id": strAttr(req)}, nil),
				"cidr_routing_policy": listBlock(1, attrs{
					"collection_id": strAttr(req), "location_name": strAttr(req),
				}, nil),
				"failover_routing_policy": listBlock(1, attrs{"type": strAttr(req)}, nil),
				"geolocation_routing_policy": listBlock(1, attrs{
					"continent": strAttr(opt), "country": strAttr(opt), "subdivision": strAttr(opt),
				}, nil),
				"geoproximity_routing_policy": listBlock(1, attrs{
					"aws_region": strAttr(opt), "bias": intAttr(opt), "local_zone_group": strAttr(opt),
				}, blocks{"coordinates": setBlock(attrs{"latitude": strAttr(req), "longitude": strAttr(req)})}),
				"latency_routing_policy":  listBlock(1, attrs{"region": strAttr(req)}, nil),
				"timeouts":                timeoutsBlock("create", "delete", "update"),
				"weighted_routing_policy": listBlock(1, attrs{"weight": intAttr(req)}, nil),
			},
		},
		plan: func(_ context.Context, _ *client, plan, _, config *obj, _ *resource.ModifyPlanResponse) error {
			if plan.known("type") && !slices.Contains(recordTypes, plan.str("type")) {
				return fmt.Errorf("type %q: want one of %v", plan.str("type"), recordTypes)
			}
			alias := len(config.blocks("alias")) > 0
			if config.known("records") && config.known("ttl") {
				switch {
				case alias && (config.has("records") || config.has("ttl")):
					return fmt.Errorf("alias conflicts with records and ttl")
				case !alias && !config.has("records"):
					return fmt.Errorf("one of records or alias must be specified")
				case !alias && !config.has("ttl"):
					return fmt.Errorf("ttl: required with records")
				}
			}
			// The sandbox's zones have no domain to append: fqdn is name.
			if plan.known("name") {
				plan.set("fqdn", strings.ToLower(strings.TrimSuffix(plan.str("name"), ".")))
			}
			if plan.known("zone_id") && plan.known("name") && plan.known("type") && plan.known("set_identifier") && config.isNull("id") {
				id := plan.str("zone_id") + "_" + plan.str("name") + "_" + plan.str("type")
				if sid := plan.str("set_identifier"); sid != "" {
					id += "_" + sid
				}
				plan.set("id", id)
			}
			return nil
		},
		create: func(context.Context, *client, *obj) error { return nil },
	}
}
