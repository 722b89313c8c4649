// Package errdefs holds the error kinds that every layer wraps and that the API maps to
// status codes. It owns no logic beyond classification.
package errdefs
