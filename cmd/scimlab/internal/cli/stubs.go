package cli

func init() {
	for _, c := range []struct{ name, summary string }{
		{"serve", "run the SCIM 2.0 reference server"},
		{"test", "run the conformance suites against a SCIM server"},
		{"simulate", "replay Okta- or Entra-style provisioning against a target"},
		{"demo", "run the main job against an in-process reference server"},
	} {
		register(notBuilt(c.name, c.summary))
	}
}
