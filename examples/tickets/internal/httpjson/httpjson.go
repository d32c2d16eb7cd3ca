// Package httpjson reads and writes the JSON bodies of the tickets
// example's HTTP APIs, with errors as {"error": "..."} that say what is
// wrong.
package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxBody bounds a request body: the APIs take a few small fields.
const maxBody = 64 << 10

// Read decodes the request's JSON body into v, refusing unknown fields and
// trailing data. On failure it has answered 400 and returns false.
func Read(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// More misses a stray closing bracket; anything but the end is extra.
		if _, next := dec.Token(); next != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	if errors.Is(err, io.EOF) {
		err = errors.New("the body is empty; send a JSON object")
	}
	if err != nil {
		Error(w, http.StatusBadRequest, fmt.Errorf("request body: %w", err))
		return false
	}
	return true
}

// Write answers status with v as JSON.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Error answers status with err's message.
func Error(w http.ResponseWriter, status int, err error) {
	Write(w, status, map[string]string{"error": err.Error()})
}
