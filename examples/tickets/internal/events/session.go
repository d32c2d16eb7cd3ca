package events

import "fmt"

// CheckSessionID checks a session id as the services take it from a
// browser: it becomes part of event ids and a correlation key, so it is
// 1 to 128 ASCII letters, digits, '-', '_' or '.'.
func CheckSessionID(s string) error {
	if s == "" {
		return fmt.Errorf("sessionId is empty")
	}
	if len(s) > 128 {
		return fmt.Errorf("sessionId is %d characters long; at most 128 are allowed", len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("sessionId has %q at byte %d; use letters, digits, '-', '_' and '.'", c, i)
		}
	}
	return nil
}
