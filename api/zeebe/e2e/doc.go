// Package e2e tests Eddy's Zeebe gateway end to end, as Zeebe users would
// meet it: it builds the eddy binary and zbctl (from the Zeebe Go client
// module, v8.3.0), runs `eddy dev` as a process of its own, and drives it
// with the Zeebe Go client, with zbctl and with the Node.js client
// zeebe-node. It also holds the gateway's benchmark, whose job workers run
// in yet another process.
package e2e
