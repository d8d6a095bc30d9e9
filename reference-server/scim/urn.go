package scim

// Schema URNs of RFC 7643 §8.7 and RFC 7644 §3.
const (
	UserSchema                  = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema                 = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserSchema        = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ServiceProviderConfigSchema = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	ResourceTypeSchema          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	ListResponseSchema          = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchOpSchema               = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SearchRequestSchema         = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	BulkRequestSchema           = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	BulkResponseSchema          = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	ErrorSchema                 = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// MediaType is the SCIM media type of RFC 7644 §3.1.
const MediaType = "application/scim+json"
