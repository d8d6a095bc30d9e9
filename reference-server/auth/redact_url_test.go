package auth

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"},
		{"password and query", "http://user:hooksecret@127.0.0.1:18248/x?key=qsecret", "http://user:***@127.0.0.1:18248/x?key=***"},
		{"username alone", "https://user@127.0.0.1/x", "https://user@127.0.0.1/x"},
		{"a key as the username", "https://xoxb7Fq2LmZp9RtVw3Ks@127.0.0.1/x", "https://***@127.0.0.1/x"},
		{"every query value", "https://127.0.0.1/hook?key=a&sig=b&key=c", "https://127.0.0.1/hook?key=***&sig=***&key=***"},
		{"bare query parameter", "https://127.0.0.1/hook?s3cr3t", "https://127.0.0.1/hook?***"},
		{"empty query", "https://127.0.0.1/hook?", "https://127.0.0.1/hook"},
		{"fragment dropped", "https://127.0.0.1/hook#frag-secret", "https://127.0.0.1/hook"},
		{"escaped userinfo", "http://u%40x:p%3Aw@127.0.0.1/", "http://u%40x:***@127.0.0.1/"},
		{"unparsable", "http://[::1", "(an unparsable URL)"},

		// Secrets in the path after a known hook prefix.
		{"slack", "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX", "https://hooks.slack.com/services/***"},
		{"slack short parts", "https://hooks.slack.com/services/T000/B000/XXXXXXXX", "https://hooks.slack.com/services/***"},
		{"slack trailing slash", "https://hooks.slack.com/services/T000/B000/XXXXXXXX/", "https://hooks.slack.com/services/***"},
		{"slack workflow", "https://hooks.slack.com/triggers/T0123/456/abcdef", "https://hooks.slack.com/triggers/***"},
		{"discord", "https://discord.com/api/webhooks/123456789012345678/AbCdEf-gh_IJ", "https://discord.com/api/webhooks/***"},
		{"discord versioned", "https://discord.com/api/v10/webhooks/1/tok", "https://discord.com/api/v10/webhooks/***"},
		{"mattermost", "https://chat.example.test/hooks/xxxgeneratedkeyxxx", "https://chat.example.test/hooks/***"},
		{"teams", "https://contoso.webhook.office.com/webhookb2/a1b2@c3d4/IncomingWebhook/e5f6/g7h8", "https://contoso.webhook.office.com/webhookb2/***"},
		{"key segment", "https://maker.ifttt.com/trigger/token_expiring/with/key/dK3yAbC", "https://maker.ifttt.com/trigger/token_expiring/with/key/***"},
		{"prefix ignores case", "https://ops.example.test/Hooks/abc", "https://ops.example.test/Hooks/***"},
		{"prefix with nothing after", "https://ops.example.test/hooks", "https://ops.example.test/hooks"},
		{"prefix with a slash after", "https://ops.example.test/hooks/", "https://ops.example.test/hooks/"},
		{"everything at once", "https://u:p@hooks.slack.com/services/T0/B0/X?x=1#f", "https://u:***@hooks.slack.com/services/***?x=***"},
		{"no scheme", "hooks.slack.com/services/T000/B000/XXXX", "hooks.slack.com/services/***"},

		// Secret-looking segments anywhere: the rest of the path goes with them.
		{"uuid", "https://ops.example.test/notify/3f1b2c4d-9e8f-4a7b-b6c5-d4e3f2a1b0c9", "https://ops.example.test/notify/***"},
		{"random letters then a name", "https://ops.example.test/in/kQzPxWvNrTbYsLmA/send", "https://ops.example.test/in/***"},
		{"bot token", "https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage", "https://api.telegram.org/***"},
		{"long number", "https://ops.example.test/n/12345678901234567", "https://ops.example.test/n/***"},
		{"escaped segments kept escaped", "https://ops.example.test/a%2Fb/Zm9vYmFyYmF6cXV4MTIzNDU2", "https://ops.example.test/a%2Fb/***"},
		{"escaped secret", "https://ops.example.test/x/abc%2Fdef%3D1234567890", "https://ops.example.test/x/***"},
		{"secret first, no host", "Zm9vYmFyYmF6cXV4MTIzNDU2/x", "***"},
		{"opaque", "http:s3cr3t-opaque", "http:***"},

		// Names stay.
		{"words", "https://ops.example.test/scim/token-expiry-notices", "https://ops.example.test/scim/token-expiry-notices"},
		{"camel case", "https://ops.example.test/integrations/PagerDutyIntegration", "https://ops.example.test/integrations/PagerDutyIntegration"},
		{"short id", "https://ops.example.test/v1/teams/42/alerts", "https://ops.example.test/v1/teams/42/alerts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RedactURL(tc.in)
			if got != tc.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if tc.want != "(an unparsable URL)" {
				if again := RedactURL(got); again != got {
					t.Errorf("RedactURL is not idempotent on %q: %q, then %q", tc.in, got, again)
				}
			}
		})
	}
}

func TestSecretSegment(t *testing.T) {
	for seg, want := range map[string]bool{
		"":                                     false,
		"XXXXXXXX":                             false, // too short to be taken for a secret
		"a1b2c3d4e5f6g7h":                      false,
		"token-expiry-notices":                 false,
		"scimlab_expiry_notice":                false,
		"notifications.json":                   false,
		"HTTPServerWebhookHandler":             false,
		"SendTokenExpiryNoticeToOps":           false,
		"scim-notices-xml-feed":                false,
		"identity governance":                  false,
		"a1b2c3d4e5f6g7h8":                     true, // a digit
		"3f1b2c4d-9e8f-4a7b-b6c5-d4e3f2a1b0c9": true,
		"12345678901234567":                    true,
		"----------------":                     true, // no letter
		"kQzPxWvNrTbYsLmA":                     true, // capitals
		"QaBeNoTiXoLuPaSe":                     true, // words of two letters
		"XXXXXXXXXXXXXXXXXXXXXXXX":             true, // one long run
		"qzpxwvnrtbyslmak":                     true,
		"hook-qzpxwvnrtbys":                    true, // five consonants in a row
		"hook-xqzvbkdwrt-ops":                  true,
	} {
		if got := secretSegment(seg); got != want {
			t.Errorf("secretSegment(%q) = %v, want %v", seg, got, want)
		}
	}
}

// FuzzRedactURL: RedactURL never panics, and a secret planted where webhook
// URLs carry one (password, query value, bare query parameter, path after a
// hook prefix, secret-looking path segment) never comes out.
func FuzzRedactURL(f *testing.F) {
	for _, seed := range [][2]string{
		{"https://hooks.slack.com/services/T000/B000/XXXXXXXX", "XXXXXXXXXXXXXXXXXXXXXXXX"},
		{"https://discord.com/api/webhooks/123/tok?wait=true", "AbCdEf-gh_IJ.k/l"},
		{"http://u:p@[::1]:80/a%2Fb/../c?x&y=1#f", "s3cr3t value&x=1"},
		{"http:opaque", "3f1b2c4d-9e8f-4a7b-b6c5-d4e3f2a1b0c9"},
		{"//host/%zz", "%41%"},
		{"", "*** ***"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, raw, secret string) {
		_ = RedactURL(raw)
		if len(secret) < 4 {
			return
		}
		planted := []struct{ fixed, in string }{
			{"https://u:@h.example.test/x", (&url.URL{Scheme: "https", User: url.UserPassword("u", secret), Host: "h.example.test", Path: "/x"}).String()},
			{"https://h.example.test/x?k=", "https://h.example.test/x?k=" + url.QueryEscape(secret)},
			{"https://h.example.test/x?", "https://h.example.test/x?" + url.QueryEscape(secret)},
			{"https://hooks.slack.com/services/T0/B0/", "https://hooks.slack.com/services/T0/B0/" + url.PathEscape(secret)},
			{"https://discord.com/api/webhooks/1/", "https://discord.com/api/webhooks/1/" + url.PathEscape(secret)},
		}
		if secretSegment(secret) {
			planted = append(planted, struct{ fixed, in string }{"https://h.example.test/in//tail", "https://h.example.test/in/" + url.PathEscape(secret) + "/tail"})
		}
		for _, p := range planted {
			out := RedactURL(p.in)
			for _, form := range []string{secret, url.PathEscape(secret), url.QueryEscape(secret)} {
				if strings.Contains(p.fixed+" "+urlMask+" (an unparsable URL)", form) {
					continue // the form is in what RedactURL may keep
				}
				if strings.Contains(out, form) {
					t.Fatalf("RedactURL(%q) = %q shows the secret %q", p.in, out, form)
				}
			}
		}
	})
}
