package collect

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Segment's limits.
const (
	MaxMessageBytes = 32 << 10  // one message
	MaxBatchBytes   = 500 << 10 // one batch request
	MaxIDBytes      = 200       // messageId, userId, anonymousId
)

// Message types of the Segment spec.
const (
	TypeTrack    = "track"
	TypePage     = "page"
	TypeScreen   = "screen"
	TypeIdentify = "identify"
	TypeGroup    = "group"
	TypeAlias    = "alias"
)

// Event names that page, screen and group calls are checked against in the
// policy (Segment's own names for them when it forwards them as events).
const (
	PageEvent   = "Page Viewed"
	ScreenEvent = "Screen Viewed"
	GroupEvent  = "Group"
)

// wire is one Segment message as it arrives. Members Candor does not use
// (integrations, version, channel, _metadata, …) are accepted and ignored.
type wire struct {
	Type              string         `json:"type"`
	MessageID         string         `json:"messageId"`
	UserID            any            `json:"userId"`
	AnonymousID       any            `json:"anonymousId"`
	PreviousID        any            `json:"previousId"`
	GroupID           any            `json:"groupId"`
	Event             string         `json:"event"`
	Name              string         `json:"name"`
	Category          string         `json:"category"`
	Properties        map[string]any `json:"properties"`
	Traits            map[string]any `json:"traits"`
	Context           map[string]any `json:"context"`
	Timestamp         string         `json:"timestamp"`
	OriginalTimestamp string         `json:"originalTimestamp"`
	SentAt            string         `json:"sentAt"`

	identity string // context.candorIdentity, read from a browser key's message
}

// batchWire is the body of POST /v1/batch.
type batchWire struct {
	Batch   []json.RawMessage `json:"batch"`
	SentAt  string            `json:"sentAt"`
	Context map[string]any    `json:"context"`
}

// ParseBatch splits a batch body into its raw messages, with the batch's
// sentAt and context (which each message may override). It returns an
// error for a body that is not a JSON object with a "batch" array.
func ParseBatch(body []byte) (msgs []json.RawMessage, sentAt string, context map[string]any, err error) {
	var b batchWire
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, "", nil, fmt.Errorf("the body is not a Segment batch: %s", jsonProblem(err))
	}
	if b.Batch == nil {
		return nil, "", nil, fmt.Errorf(`the body has no "batch" array`)
	}
	return b.Batch, b.SentAt, b.Context, nil
}

// jsonProblem describes a JSON error without quoting the input.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("malformed JSON at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		if e.Field != "" {
			return fmt.Sprintf("%s has the wrong type (want %s)", e.Field, e.Type)
		}
		return "a member has the wrong type"
	}
	if strings.Contains(err.Error(), "unexpected end") {
		return "the JSON ends too early"
	}
	return "malformed JSON"
}

// idString reads an id that Segment allows as a string or a number.
func idString(v any, name string) (string, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		s = strings.TrimSpace(x)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return "", fmt.Errorf("%s must be a string", name)
	}
	if len(s) > MaxIDBytes || !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n") {
		return "", fmt.Errorf("%s is too long or not valid text", name)
	}
	return s, nil
}

// parseTime reads an ISO 8601 time as Segment's libraries send it.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// eventTime corrects the sender's clock as Segment does: the event happened
// (sentAt - timestamp) before the message was received. Without sentAt the
// timestamp is taken as it is; without a timestamp, the time received. A
// time in the future is the time received.
func eventTime(timestamp, sentAt string, received time.Time) time.Time {
	ts, ok := parseTime(timestamp)
	if !ok {
		return received
	}
	t := ts
	if sent, ok := parseTime(sentAt); ok {
		t = received.Add(-sent.Sub(ts))
	}
	if t.After(received) {
		return received
	}
	return t
}
