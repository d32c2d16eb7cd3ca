// Package zeebe serves Zeebe's gateway protocol (gateway_protocol.Gateway,
// as in github.com/camunda/zeebe/clients/go/v8 v8.3.0, pkg/pb) over gRPC on
// Eddy's engine, so that existing Zeebe clients, job workers and zbctl work
// unchanged against Eddy.
//
// Every RPC maps to one engine call, and errors map to the gRPC status codes
// Zeebe's gateway answers with: NOT_FOUND for unknown keys,
// INVALID_ARGUMENT for bad requests and bad models (with the validation
// report), ALREADY_EXISTS for a duplicate message id, FAILED_PRECONDITION
// for a command the entity's state refuses (a job no longer activated),
// DEADLINE_EXCEEDED when a with-result request times out, RESOURCE_EXHAUSTED
// under back-pressure and UNAVAILABLE when this node owns no partition.
// Rejections read as Zeebe's do: "Command 'COMPLETE' rejected with code
// 'NOT_FOUND': ...".
//
// The server asks an Engines for the engine of each request rather than
// holding one, because `eddy dev` replaces its engine when the node's
// partition claims change. Security is optional: TLS with a certificate and
// key, and a check of the bearer token (the OAuth client-credential token
// Zeebe clients send) against configured tokens.
package zeebe
