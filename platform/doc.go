// Package platform is a client of the PureWeb platform API and builds stream
// launch links.
//
// The calls, paths and payloads follow PureWeb's admin SDK for JavaScript,
// version 5.0.5: client-credentials access tokens, agent environments, agent
// tokens, the project and its models. A [Launcher] runs the token flow behind
// a stream launch and returns the launch link that carries the launch-request
// token. It reuses one admin token across launches and runs the launch-request
// token call concurrently with the environment calls.
//
// Every call takes a context and has its own deadline. Failures are returned
// as [*Error] values that wrap one of the package's sentinel errors, so callers
// can branch with [errors.Is] and read the HTTP status with [errors.As]. The
// package does not log. Error strings never contain client secrets or tokens,
// but they may quote a message from the platform.
package platform
