package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/internal/jsontext"
)

// decode reads a JSON body into v: at most limit bytes, no unknown
// members, nothing after the value. Malformed JSON is EMALFORMED (400), an
// unknown member, a wrong type, invalid UTF-8 or an unpaired surrogate
// escape EINVALID (422), an oversized body ETOOLARGE (413).
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json") && mt != "text/plain") {
			return &candor.Error{Code: candor.EMALFORMED, Message: "the body must be JSON (Content-Type: application/json)"}
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return candor.Errorf(candor.ETOOLARGE, "the body is larger than %d bytes", limit)
		}
		return candor.Errorf(candor.EMALFORMED, "the body could not be read")
	}
	if err := checkText(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	err = dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			var mbe *http.MaxBytesError
			if errors.As(terr, &mbe) {
				return candor.Errorf(candor.ETOOLARGE, "the body is larger than %d bytes", limit)
			}
			return candor.Errorf(candor.EMALFORMED, "unexpected data after the JSON value")
		}
		return nil
	}
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return candor.Errorf(candor.ETOOLARGE, "the body is larger than %d bytes", limit)
	case errors.Is(err, io.EOF):
		return candor.Errorf(candor.EMALFORMED, "the body is empty; JSON expected")
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return candor.Errorf(candor.EMALFORMED, "the body is not valid JSON")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(body)"
		}
		return candor.Invalid("wrong type", candor.FieldError{Field: field, Message: fmt.Sprintf("want %s", jsonType(te.Type.Kind().String()))})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if len(name) > 64 {
			name = name[:64]
		}
		return candor.Invalid("unknown member "+name, candor.FieldError{Field: name, Message: "unknown member"})
	}
	return candor.Errorf(candor.EMALFORMED, "the body is not valid JSON")
}

// checkText refuses a body that encoding/json would silently alter:
// invalid UTF-8 or an unpaired UTF-16 surrogate escape, each of which it
// replaces with U+FFFD.
func checkText(b []byte) error {
	if err := jsontext.Check(b); err != nil {
		return candor.Invalid("the body is not valid Unicode text: "+err.Error(), candor.FieldError{Field: "(body)", Message: err.Error()})
	}
	return nil
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	return "a number"
}
