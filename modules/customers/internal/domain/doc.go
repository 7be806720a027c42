// Package domain holds the customers module's rules in plain Go: e-mail
// normalization, the password policy and argon2id hashing, and the
// validation of names and addresses. It knows nothing of the database or
// HTTP.
package domain
