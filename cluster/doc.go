// Package cluster lets several Eddy nodes that share one store act as one:
// a node forwards a command or query for a partition it does not own to
// the node that owns it, so that any node accepts any request.
//
// A node is found through the partition claims in the store: its owner
// name is "name@url", where url is the node's advertised internal HTTP
// address (see Owner). Peers implements engine.Peers over HTTP; Handler
// serves the forwarded requests on the owning node.
package cluster
