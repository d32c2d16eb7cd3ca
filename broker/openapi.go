package broker

import _ "embed"

// openAPI is the hand-written OpenAPI 3.1 description of the broker's HTTP
// API (Handler); openapi_test.go keeps it and the routes in step.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI document of the broker's HTTP API. A node that
// serves the broker beside another API merges it into that API's document
// (rest.MergeOpenAPI), so that one document describes the whole port.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }
