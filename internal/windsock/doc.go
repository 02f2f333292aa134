// Package windsock holds Windsock's domain model: DAG definitions, runs, task
// instances and their states, the metadata records an environment owns
// (variables, connections, pools, import errors, jobs, users), and the
// application error codes every layer speaks.
//
// It imports only the standard library so that every other package, from the
// DAG file parser to the HTTP API, can depend on it without cycles.
package windsock
