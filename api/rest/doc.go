// Package rest serves Eddy's REST/JSON API under /v1: deployments, process
// instances (created with or without waiting for their result), messages,
// signals, jobs, variables and incidents, with errors as RFC 9457 problem
// details and an OpenAPI 3 document at /v1/openapi.json. It also holds the
// Go client the CLI uses.
//
// Keys are 64-bit integers: responses write them as JSON strings, because
// JavaScript numbers lose precision above 2^53, and requests accept either a
// string of digits or a JSON number. Durations are milliseconds (a JSON
// number), or a Go duration string such as "30s".
package rest
