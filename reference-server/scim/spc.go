package scim

// ServiceProviderConfig is the /ServiceProviderConfig resource (RFC 7643 §5).
// The reference server generates it from its profile; the suites read a
// target's to decide which checks apply.
type ServiceProviderConfig struct {
	Schemas               []string     `json:"schemas"`
	DocumentationURI      string       `json:"documentationUri,omitempty"`
	Patch                 Supported    `json:"patch"`
	Bulk                  BulkConfig   `json:"bulk"`
	Filter                FilterConfig `json:"filter"`
	ChangePassword        Supported    `json:"changePassword"`
	Sort                  Supported    `json:"sort"`
	ETag                  Supported    `json:"etag"`
	AuthenticationSchemes []AuthScheme `json:"authenticationSchemes"`
	Meta                  *Meta        `json:"meta,omitempty"`
}

// Supported is a feature flag object such as "patch" (RFC 7643 §5).
type Supported struct {
	Supported bool `json:"supported"`
}

// BulkConfig is the "bulk" object of RFC 7643 §5.
type BulkConfig struct {
	Supported      bool `json:"supported"`
	MaxOperations  int  `json:"maxOperations"`
	MaxPayloadSize int  `json:"maxPayloadSize"`
}

// FilterConfig is the "filter" object of RFC 7643 §5.
type FilterConfig struct {
	Supported  bool `json:"supported"`
	MaxResults int  `json:"maxResults"`
}

// AuthScheme is one value of "authenticationSchemes" (RFC 7643 §5).
type AuthScheme struct {
	Type             string `json:"type"` // "oauthbearertoken", "httpbasic", …
	Name             string `json:"name"`
	Description      string `json:"description"`
	SpecURI          string `json:"specUri,omitempty"`
	DocumentationURI string `json:"documentationUri,omitempty"`
	Primary          bool   `json:"primary,omitempty"`
}
