// Package jsontext checks that a JSON text is well-formed Unicode before it
// is decoded: Go's encoding/json replaces invalid UTF-8 and unpaired UTF-16
// surrogate escapes with U+FFFD without a word, so a value would be stored
// other than it was sent (and two different identifiers could become one).
package jsontext

import (
	"fmt"
	"unicode/utf8"
)

// Check returns an error that says what is wrong and at which byte when b
// holds invalid UTF-8 or a \u escape of a UTF-16 surrogate that is not
// part of a pair; nil otherwise. It does not check the JSON syntax.
func Check(b []byte) error {
	if !utf8.Valid(b) {
		for i := 0; i < len(b); {
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				return fmt.Errorf("invalid UTF-8 at byte %d", i)
			}
			i += n
		}
	}
	// A backslash appears in valid JSON only inside a string, where it
	// starts an escape of two bytes, or of six for \uXXXX.
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if i+1 >= len(b) {
			return nil // the JSON decoder reports the syntax error
		}
		if b[i+1] != 'u' {
			i++
			continue
		}
		r, ok := hex4(b, i+2)
		if !ok {
			return nil // a syntax error, reported by the decoder
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if lo, ok := hex4(b, i+8); ok && lo >= 0xDC00 && lo < 0xE000 {
					i += 11
					continue
				}
			}
			return fmt.Errorf("unpaired UTF-16 surrogate escape at byte %d", i)
		case r >= 0xDC00 && r < 0xE000:
			return fmt.Errorf("unpaired UTF-16 surrogate escape at byte %d", i)
		}
		i += 5
	}
	return nil
}

// hex4 reads the four hexadecimal digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
