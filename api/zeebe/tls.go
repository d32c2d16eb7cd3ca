package zeebe

import (
	"crypto/tls"
	"fmt"
)

// LoadTLS reads a PEM certificate (chain) and its private key for WithTLS.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, fmt.Errorf("TLS needs a certificate and its key, but neither was given")
	case certFile == "":
		return nil, fmt.Errorf("TLS needs a certificate for the key %s", keyFile)
	case keyFile == "":
		return nil, fmt.Errorf("TLS needs the private key of the certificate %s", certFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading the TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	// gRPC runs on HTTP/2, which needs TLS 1.2 at least.
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2"}}, nil
}
