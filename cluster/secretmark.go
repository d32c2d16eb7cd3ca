package cluster

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// SecretMark is what a node publishes to the others of its cluster secret,
// so that a node started with another one (or none, among nodes that have
// one) is told at start rather than taking partitions whose requests the
// others then refuse: 64 bits of an HMAC of the secret, never 0, which
// stands for no secret. It tells nothing of the secret a guess could not.
func SecretMark(secret string) uint64 {
	if secret == "" {
		return 0
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("eddy cluster secret mark"))
	return binary.BigEndian.Uint64(m.Sum(nil)) | 1
}
